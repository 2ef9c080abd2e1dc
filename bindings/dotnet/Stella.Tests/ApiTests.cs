using MemoryPack;
using Stella;
using Stella.Peer;
using Xunit;

namespace Stella.Tests;

[MemoryPackable]
public partial class PackedPoint
{
    public int X { get; set; }
    public string Label { get; set; } = "";
}

public class ApiTests
{
    internal static string Unique(string name) => $"{name}.{Environment.ProcessId}.{Guid.NewGuid().ToString("N")[..12]}";

    public static TheoryData<string> Serializers => new() { "json", "msgpack", "memorypack", "protobuf" };

    internal static ISerializer Make(string format) => format switch
    {
        "json" => new JsonSerializer(),
        "msgpack" => new MessagePackObjectSerializer(),
        "memorypack" => new MemoryPackObjectSerializer(),
        "protobuf" => new ProtobufObjectSerializer(),
        _ => throw new ArgumentException(format),
    };

    [Theory]
    [MemberData(nameof(Serializers))]
    public void EverySerializerRoundTripsThroughRingAndBlob(string format)
    {
        string name = Unique("rt");
        using ISerializer serializer = Make(format);
        using (var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Create, 65536))
        using (var r = new LockFreeBufferReader(name))
        {
            for (int i = 0; i < 10; ++i) Assert.True(w.Write(InteropRecord.For(i), serializer));
            for (int i = 0; i < 10; ++i)
            {
                Assert.True(r.TryRead(serializer, out InteropRecord? got));
                Assert.Equal($"msg-{i}", got!.Name);
                Assert.Equal(i, got.Id);
                Assert.Equal(InteropRecord.For(i).Values, got.Values);
            }
            Assert.False(r.TryRead(serializer, out InteropRecord? _));
            Assert.Equal(10, r.MessagesRead);
            Assert.Equal(10, w.MessagesWritten);
        }
        MultiWriterCircularBuffer.Remove(name);

        using (var blob = new SharedMemory(name, SharedMemoryMode.Create, 4096))
        {
            Assert.False(blob.TryRead(serializer, out InteropRecord? _));
            blob.Write(InteropRecord.For(7), serializer);
            Assert.Equal("msg-7", blob.Read<InteropRecord>(serializer)!.Name);
            Assert.Equal(1, blob.Generation);
        }
        SharedMemory.Remove(name);
    }

    [Fact]
    public void MemoryPackTypesRoundTrip()
    {
        string name = Unique("mp");
        using var serializer = new MemoryPackObjectSerializer();
        using var blob = new SharedMemory(name, SharedMemoryMode.Create, 4096);
        blob.Write(new PackedPoint { X = 3, Label = "three" }, serializer);
        PackedPoint p = blob.Read<PackedPoint>(serializer)!;
        Assert.Equal((3, "three"), (p.X, p.Label));
        SharedMemory.Remove(name);
    }

    [Fact]
    public void ErrorsCarryStellaCodeAndMessage()
    {
        string name = Unique("missing");
        var e = Assert.Throws<StellaException>(() => new LockFreeBufferReader(name));
        Assert.Equal(StellaErrorCode.NotFound, e.Code);
        Assert.Contains($"segment '{name}'", e.Message);

        e = Assert.Throws<StellaException>(() => new MultiWriterCircularBuffer("bad/name", SharedMemoryMode.Create, 65536));
        Assert.Equal(StellaErrorCode.InvalidName, e.Code);
        Assert.Contains("bad/name", e.Message);

        e = Assert.Throws<StellaException>(() => new MultiWriterCircularBuffer(name, SharedMemoryMode.Create, 5000));
        Assert.Equal(StellaErrorCode.InvalidArgument, e.Code);

        using (var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Create, 4096))
        {
            e = Assert.Throws<StellaException>(() => w.Write(new byte[w.MaxMessageSize + 1]));
            Assert.Equal(StellaErrorCode.ValueTooLarge, e.Code);
            e = Assert.Throws<StellaException>(() => new SharedMemory(name, SharedMemoryMode.Open));
            Assert.Equal(StellaErrorCode.WrongKind, e.Code);
            e = Assert.Throws<StellaException>(() => new MultiWriterCircularBuffer(name, SharedMemoryMode.Create, 4096));
            Assert.Equal(StellaErrorCode.AlreadyExists, e.Code);

            // A serializer failure is a Serialization error naming the segment.
            using var r = new LockFreeBufferReader(name);
            w.Write("not json"u8);
            e = Assert.Throws<StellaException>(() => r.TryRead(new JsonSerializer(), out InteropRecord? _));
            Assert.Equal(StellaErrorCode.Serialization, e.Code);
            Assert.Contains(name, e.Message);
            w.Dispose();
            Assert.Throws<ObjectDisposedException>(() => w.Write("x"u8));
        }
        MultiWriterCircularBuffer.Remove(name);
        Assert.Equal("not_found", StellaLibrary.StatusName(StellaErrorCode.NotFound));
        Assert.Matches(@"^\d+\.\d+\.\d+", StellaLibrary.Version);
    }

    [Fact]
    public void ClaimAndPeekAreZeroCopy()
    {
        string name = Unique("zc");
        using (var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Create, 65536))
        using (var r = new LockFreeBufferReader(name))
        {
            Assert.True(w.Claim(5, out Span<byte> record));
            "hello"u8.CopyTo(record);
            Assert.False(r.TryPeek(out _));  // not yet committed
            w.Commit();
            Assert.True(w.TryClaim(3, out record));
            w.Abort();  // withdrawn: readers skip it
            w.Write("world"u8);

            Assert.True(r.TryPeek(out ReadOnlySpan<byte> view));
            Assert.Equal("hello", System.Text.Encoding.UTF8.GetString(view));
            Assert.True(r.TryPeek(out view));  // still next until released
            Assert.Equal("hello", System.Text.Encoding.UTF8.GetString(view));
            Assert.True(r.Release());
            Assert.True(r.Peek(out view, TimeSpan.FromSeconds(1)));
            Assert.Equal("world", System.Text.Encoding.UTF8.GetString(view));
            Assert.True(r.Release());
            Assert.False(r.Peek(out _, TimeSpan.FromMilliseconds(20)));  // times out
        }
        MultiWriterCircularBuffer.Remove(name);

        using (var blob = new SharedMemory(name, SharedMemoryMode.Create, 64))
        {
            Span<byte> place = blob.Claim(64);
            "in place"u8.CopyTo(place);
            blob.Commit(8);
            Span<byte> buf = stackalloc byte[64];
            Assert.True(blob.TryRead(buf, out int n));
            Assert.Equal("in place", System.Text.Encoding.UTF8.GetString(buf[..n]));
        }
        SharedMemory.Remove(name);
    }

    [Fact]
    public void RawWritesAndReadsAllocateNothing()
    {
        string name = Unique("alloc");
        using (var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Create, 1 << 20))
        using (var r = new LockFreeBufferReader(name))
        {
            byte[] msg = new byte[64];
            byte[] buf = new byte[64];
            w.Write(msg);
            r.TryRead(buf, out _);  // warm up (JIT)
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; ++i)
            {
                w.Write(msg);
                r.TryRead(buf, out _);
                w.Claim(8, out Span<byte> rec);
                w.Commit();
                r.TryPeek(out _);
                r.Release();
            }
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        MultiWriterCircularBuffer.Remove(name);
    }
}
