using MemoryPack;
using MessagePack;
using ProtoBuf;

namespace Stella.Peer;

/// The checksummed messages of tests/capi/capi_messages.h, byte for byte: 4 bytes writer w,
/// 4 bytes index i (little-endian), then (i * 37) % 251 payload bytes, byte k being
/// (w * 131 + i * 7 + k * 13) & 0xff — so a torn, mixed or misdelivered message is caught.
public static class CheckedMessage
{
    public const int MaxSize = 8 + 251;

    public static int Make(uint w, uint i, Span<byte> buf)
    {
        int payload = (int)(i * 37u % 251u);
        BitConverter.TryWriteBytes(buf, w);
        BitConverter.TryWriteBytes(buf[4..], i);
        for (int k = 0; k < payload; ++k) buf[8 + k] = (byte)((w * 131u + i * 7u + (uint)k * 13u) & 0xffu);
        return 8 + payload;
    }

    public static bool Check(ReadOnlySpan<byte> buf, out uint w, out uint i)
    {
        w = i = 0;
        if (buf.Length < 8) return false;
        w = BitConverter.ToUInt32(buf);
        i = BitConverter.ToUInt32(buf[4..]);
        if (buf.Length != 8 + (int)(i * 37u % 251u)) return false;
        for (int k = 0; k + 8 < buf.Length; ++k)
        {
            if (buf[8 + k] != (byte)((w * 131u + i * 7u + (uint)k * 13u) & 0xffu)) return false;
        }
        return true;
    }
}

/// The record the serializer interop tests exchange with C++ (tests/dotnet/dotnet_serial_peer.cpp):
/// JSON by member name, MessagePack as an array [Name, Id, Values] (msgpack-cxx's
/// MSGPACK_DEFINE), Protobuf fields 1, 2, 3 (tests/dotnet/dotnet_interop.proto).
[MessagePackObject]
[ProtoContract]
[MemoryPackable]
public partial class InteropRecord
{
    [Key(0)] [ProtoMember(1)] public string Name { get; set; } = "";
    [Key(1)] [ProtoMember(2)] public long Id { get; set; }
    [Key(2)] [ProtoMember(3, IsPacked = true)] public double[] Values { get; set; } = [];

    public static InteropRecord For(long i) => new() { Name = $"msg-{i}", Id = i, Values = [i * 0.5, i + 0.25, -i] };
}
