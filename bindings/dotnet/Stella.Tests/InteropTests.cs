// Real processes on one ring: C# (this test, or the Stella.Peer process) and C++
// (tests/capi/capi_cxx_peer, tests/dotnet/dotnet_serial_peer). bindings/dotnet/test.sh sets
// STELLA_CAPI_CXX_PEER and STELLA_DOTNET_SERIAL_PEER to the built helpers.
using System.Diagnostics;
using Stella;
using Stella.Peer;
using Xunit;

namespace Stella.Tests;

public class InteropTests
{
    private const int Count = 3000;

    private static string Helper(string variable)
    {
        string? path = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new InvalidOperationException($"{variable} must name the built helper (bindings/dotnet/test.sh sets it); it is '{path}'");
        }
        return path;
    }

    private static Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    private static Process StartCSharpPeer(params string[] args)
        => Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "Stella.Peer.dll"), .. args]);

    private static void ExpectLine(Process p, string expected)
    {
        string? line = p.StandardOutput.ReadLine();
        if (line != expected)
        {
            p.WaitForExit(10_000);
            Assert.Fail($"expected '{expected}' from {p.StartInfo.FileName}, got '{line}'; stderr: {p.StandardError.ReadToEnd()}");
        }
    }

    private static void ExpectSuccess(Process p)
    {
        Assert.True(p.WaitForExit(60_000), "the peer process did not finish within 60 s");
        string err = p.StandardError.ReadToEnd();
        Assert.True(p.ExitCode == 0, $"{p.StartInfo.FileName} exited with {p.ExitCode}: {err}");
    }

    [Theory]
    [InlineData(WriteBehavior.Block)]
    [InlineData(WriteBehavior.Overwrite)]
    public void CSharpWriterToCppReader(WriteBehavior behavior)
    {
        string name = ApiTests.Unique("cs2cxx");
        // Block: a 16 KiB ring the writer must wait on; Overwrite: room for all, so nothing is lost.
        using var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Create,
                                                    behavior == WriteBehavior.Block ? 16384 : 1 << 20, behavior);
        using Process cxx = Start(Helper("STELLA_CAPI_CXX_PEER"), "read", name, Count.ToString(), "1");
        try
        {
            ExpectLine(cxx, "ready");  // its reader is registered: a Block ring now waits for it
            Span<byte> buf = stackalloc byte[CheckedMessage.MaxSize];
            for (uint i = 0; i < Count; ++i)
            {
                int n = CheckedMessage.Make(0, i, buf);
                Assert.True(w.Write(buf[..n], TimeSpan.FromSeconds(30)), $"write {i} timed out");
            }
            ExpectSuccess(cxx);  // it checked every message, in order, none lost
        }
        finally
        {
            if (!cxx.HasExited) cxx.Kill();
            MultiWriterCircularBuffer.Remove(name);
        }
    }

    [Theory]
    [InlineData(WriteBehavior.Block)]
    [InlineData(WriteBehavior.Overwrite)]
    public void CppWriterToCSharpReader(WriteBehavior behavior)
    {
        string name = ApiTests.Unique("cxx2cs");
        bool block = behavior == WriteBehavior.Block;
        using var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Create, block ? 16384 : 1 << 20, behavior);
        using var r = new LockFreeBufferReader(name);
        using Process cxx = Start(Helper("STELLA_CAPI_CXX_PEER"), "write", name, "0", Count.ToString());
        try
        {
            byte[] buf = new byte[CheckedMessage.MaxSize];
            long last = -1;
            int received = 0;
            while (last < Count - 1)
            {
                Assert.True(r.Read(buf, out int n, TimeSpan.FromSeconds(30)), $"no message after index {last}");
                Assert.True(CheckedMessage.Check(buf.AsSpan(0, n), out uint writer, out uint i), $"message after {last} is torn");
                Assert.Equal(0u, writer);
                Assert.True(i > last, $"index {i} after {last}");
                if (block) Assert.Equal(last + 1, i);  // Block: every message, in order
                last = i;
                ++received;
            }
            ExpectSuccess(cxx);
            Assert.Equal(Count, received + r.MessagesLost);
            if (block) Assert.Equal(0, r.MessagesLost);
        }
        finally
        {
            if (!cxx.HasExited) cxx.Kill();
            MultiWriterCircularBuffer.Remove(name);
        }
    }

    [Theory]
    [InlineData(WriteBehavior.Block)]
    [InlineData(WriteBehavior.Overwrite)]
    public void CSharpProcessWriterToCSharpProcessReader(WriteBehavior behavior)
    {
        // Two C# processes: the reader process checks every message of the writer process.
        string name = ApiTests.Unique("cs2cs");
        using var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Create, 1 << 20, behavior);
        using Process reader = StartCSharpPeer("read", name, Count.ToString());
        try
        {
            ExpectLine(reader, "ready");
            using Process writer = StartCSharpPeer("write", name, "0", Count.ToString());
            ExpectSuccess(writer);
            ExpectLine(reader, $"ok {Count} 0");
            ExpectSuccess(reader);
        }
        finally
        {
            if (!reader.HasExited) reader.Kill();
            MultiWriterCircularBuffer.Remove(name);
        }
    }

    [Theory]
    [InlineData(WriteBehavior.Block)]
    [InlineData(WriteBehavior.Overwrite)]
    public void CSharpWriterKilledMidWriteIsRepaired(WriteBehavior behavior)
    {
        string name = ApiTests.Unique("kill");
        TimeSpan recovery = TimeSpan.FromMilliseconds(300);
        using var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Create, 65536, behavior, recovery);
        using var r = new LockFreeBufferReader(name, recoveryTimeout: recovery);
        using Process victim = StartCSharpPeer("claim-and-hang", name);
        try
        {
            ExpectLine(victim, "claimed");  // a record reserved and half filled, never committed
            victim.Kill();  // SIGKILL
            victim.WaitForExit();

            // Readers wait at the dead writer's record; after the recovery timeout it is repaired
            // and the next writer's message comes through.
            Assert.True(w.Write("after the crash"u8, TimeSpan.FromSeconds(10)));
            byte[] buf = new byte[64];
            var clock = Stopwatch.StartNew();
            Assert.True(r.Read(buf, out int n, TimeSpan.FromSeconds(10)), "the reader never got past the dead writer's record");
            Assert.Equal("after the crash", System.Text.Encoding.UTF8.GetString(buf, 0, n));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(9));
            // Writing goes on normally after the repair.
            Assert.True(w.Write("and on"u8, TimeSpan.FromSeconds(10)));
            Assert.True(r.Read(buf, out n, TimeSpan.FromSeconds(10)));
            Assert.Equal("and on", System.Text.Encoding.UTF8.GetString(buf, 0, n));
        }
        finally
        {
            if (!victim.HasExited) victim.Kill();
            MultiWriterCircularBuffer.Remove(name);
        }
    }

    [Theory]
    [InlineData("json")]      // System.Text.Json -> nlohmann-json: same text, names by member (PascalCase)
    [InlineData("msgpack")]   // MessagePack-CSharp [Key(n)] array -> msgpack-cxx MSGPACK_DEFINE array
    [InlineData("protobuf")]  // protobuf-net [ProtoMember(n)] -> Google protobuf, same wire format
    public void CSharpSerializedRecordsDecodeInCpp(string format)
    {
        string name = ApiTests.Unique("serial-" + format);
        using var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Create, 1 << 16, WriteBehavior.Block);
        using Process cxx = Start(Helper("STELLA_DOTNET_SERIAL_PEER"), "read", format, name, "500");
        try
        {
            ExpectLine(cxx, "ready");
            using ISerializer serializer = ApiTests.Make(format);
            for (int i = 0; i < 500; ++i) Assert.True(w.Write(InteropRecord.For(i), serializer, TimeSpan.FromSeconds(30)));
            ExpectLine(cxx, "ok 500");
            ExpectSuccess(cxx);
        }
        finally
        {
            if (!cxx.HasExited) cxx.Kill();
            MultiWriterCircularBuffer.Remove(name);
        }
    }

    [Theory]
    [InlineData("json")]      // nlohmann-json -> System.Text.Json (member names match the C++ keys)
    [InlineData("msgpack")]   // msgpack-cxx MSGPACK_DEFINE array -> MessagePack-CSharp [Key(n)]
    [InlineData("protobuf")]  // Google protobuf -> protobuf-net, same field numbers
    public void CppSerializedRecordsDecodeInCSharp(string format)
    {
        string name = ApiTests.Unique("cxxserial-" + format);
        using var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Create, 1 << 16, WriteBehavior.Block);
        using var r = new LockFreeBufferReader(name);
        using Process cxx = Start(Helper("STELLA_DOTNET_SERIAL_PEER"), "write", format, name, "500");
        try
        {
            using ISerializer serializer = ApiTests.Make(format);
            for (int i = 0; i < 500; ++i)
            {
                Assert.True(r.Read(serializer, out InteropRecord? got, TimeSpan.FromSeconds(30)), $"record {i} did not come");
                InteropRecord want = InteropRecord.For(i);
                Assert.Equal((want.Name, want.Id), (got.Name, got.Id));
                Assert.Equal(want.Values, got.Values);
            }
            ExpectSuccess(cxx);
            Assert.Equal(0, r.MessagesLost);
        }
        finally
        {
            if (!cxx.HasExited) cxx.Kill();
            MultiWriterCircularBuffer.Remove(name);
        }
    }
}
