// stella-dotnet-peer: the C# process of the interop tests.
//
//   write NAME WRITER COUNT          writes COUNT checksummed messages to the existing ring NAME
//   read NAME COUNT                  opens a reader, prints "ready", reads COUNT messages of
//                                    writer 0 in order, checking each; prints "ok READ LOST"
//   claim-and-hang NAME              claims a record, prints "claimed", and waits (to be killed)
//   serial FORMAT NAME COUNT         writes InteropRecord.For(0..COUNT-1) as json|msgpack|protobuf
//   bench NAME COUNT SIZE            in-process write+read cost per message (ns), raw and JSON
//   log-reader NAME [WAIT]           the original README's C# reader (JSON log entries, as
//                                    examples/ring_example writes them): all there is, or
//                                    waits for WAIT messages (scripts/demo.sh)
using System.Diagnostics;
using Stella;
using Stella.Peer;

try
{
    return args switch
    {
        ["write", var name, var w, var count] => Write(name, uint.Parse(w), uint.Parse(count)),
        ["read", var name, var count] => Read(name, uint.Parse(count)),
        ["claim-and-hang", var name] => ClaimAndHang(name),
        ["serial", var format, var name, var count] => Serial(format, name, int.Parse(count)),
        ["bench", var name, var count, var size] => Bench(name, int.Parse(count), int.Parse(size)),
        ["log-reader", var name] => LogReader(name, 0),
        ["log-reader", var name, var wait] => LogReader(name, int.Parse(wait)),
        _ => Usage(),
    };
}
catch (StellaException e)
{
    Console.Error.WriteLine($"stella-dotnet-peer: {e.Code}: {e.Message}");
    return 1;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Stella.Peer write NAME WRITER COUNT | read NAME COUNT | claim-and-hang NAME | " +
                            "serial json|msgpack|protobuf NAME COUNT | bench NAME COUNT SIZE | log-reader NAME [WAIT]");
    return 2;
}

static int Write(string name, uint writer, uint count)
{
    using var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Open);
    Span<byte> buf = stackalloc byte[CheckedMessage.MaxSize];
    for (uint i = 0; i < count; ++i)
    {
        int n = CheckedMessage.Make(writer, i, buf);
        if (!w.Write(buf[..n], TimeSpan.FromSeconds(30)))
        {
            Console.Error.WriteLine($"stella-dotnet-peer: write {i} timed out");
            return 1;
        }
    }
    return 0;
}

static int Read(string name, uint count)
{
    using var r = new LockFreeBufferReader(name);
    Console.WriteLine("ready");
    Console.Out.Flush();
    Span<byte> buf = stackalloc byte[CheckedMessage.MaxSize];
    for (uint expected = 0; expected < count; ++expected)
    {
        if (!r.Read(buf, out int n, TimeSpan.FromSeconds(30)))
        {
            Console.Error.WriteLine($"stella-dotnet-peer: read {expected} timed out");
            return 1;
        }
        if (!CheckedMessage.Check(buf[..n], out uint w, out uint i) || w != 0 || i != expected)
        {
            Console.Error.WriteLine($"stella-dotnet-peer: message {expected} is wrong (writer {w}, index {i})");
            return 1;
        }
    }
    Console.WriteLine($"ok {r.MessagesRead} {r.MessagesLost}");
    return r.MessagesLost == 0 ? 0 : 1;
}

static int LogReader(string name, int waitFor)
{
    var serializer = new JsonSerializer();
    int n = 0;
    using (var reader = new LockFreeBufferReader(name))
    {
        if (waitFor <= 0)
        {
            while (reader.TryRead(serializer, out dynamic? logEntry))  // the README's loop
            {
                Console.WriteLine($"C#  [{logEntry.Timestamp}] {logEntry.LogLevel}: {logEntry.Text}");
                ++n;
            }
        }
        else
        {
            while (n < waitFor && reader.Read(serializer, out dynamic? logEntry, TimeSpan.FromSeconds(30)))
            {
                Console.WriteLine($"C#  [{logEntry.Timestamp}] {logEntry.LogLevel}: {logEntry.Text}");
                ++n;
            }
        }
        if (reader.MessagesLost > 0) Console.WriteLine($"C#  ({reader.MessagesLost} older messages were overwritten)");
    }
    return waitFor > 0 && n < waitFor ? 1 : 0;
}

static int ClaimAndHang(string name)
{
    using var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Open);
    w.Claim(100, out Span<byte> record);
    record.Fill(0xAB);  // half-written: never committed
    Console.WriteLine("claimed");
    Console.Out.Flush();
    Thread.Sleep(Timeout.Infinite);  // killed with SIGKILL by the test
    return 0;
}

static int Serial(string format, string name, int count)
{
    using ISerializer serializer = format switch
    {
        "json" => new JsonSerializer(),
        "msgpack" => new MessagePackObjectSerializer(),
        "protobuf" => new ProtobufObjectSerializer(),
        _ => throw new ArgumentException($"unknown format '{format}' (json, msgpack, protobuf)"),
    };
    using var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Open);
    for (int i = 0; i < count; ++i) w.Write(InteropRecord.For(i), serializer, TimeSpan.FromSeconds(30));
    return 0;
}

// Writes and reads COUNT messages of SIZE bytes through one ring in this process, in batches
// that fit the ring: the cost of a write plus a read through the binding.
static int Bench(string name, int count, int size)
{
    MultiWriterCircularBuffer.Remove(name);
    using var w = new MultiWriterCircularBuffer(name, SharedMemoryMode.Create, 1 << 22);
    using var r = new LockFreeBufferReader(name);
    byte[] msg = new byte[size];
    byte[] buf = new byte[size];
    const int Batch = 1000;
    long allocated = GC.GetAllocatedBytesForCurrentThread();
    var sw = Stopwatch.StartNew();
    for (int done = 0; done < count; done += Batch)
    {
        for (int k = 0; k < Batch; ++k) w.Write(msg);
        for (int k = 0; k < Batch; ++k) r.TryRead(buf, out _);
    }
    double rawNs = sw.Elapsed.TotalNanoseconds / count;
    long rawAlloc = GC.GetAllocatedBytesForCurrentThread() - allocated;

    using var json = new JsonSerializer();
    var record = InteropRecord.For(42);
    int jsonCount = count / 10;
    sw.Restart();
    for (int done = 0; done < jsonCount; done += Batch)
    {
        for (int k = 0; k < Batch; ++k) w.Write(record, json);
        for (int k = 0; k < Batch; ++k) r.TryRead<InteropRecord>(json, out _);
    }
    double jsonNs = sw.Elapsed.TotalNanoseconds / jsonCount;
    var scratch = new System.Buffers.ArrayBufferWriter<byte>();
    sw.Restart();
    for (int k = 0; k < jsonCount; ++k)
    {
        scratch.ResetWrittenCount();
        json.Serialize(record, scratch);
        json.Deserialize<InteropRecord>(scratch.WrittenMemory);
    }
    double codecNs = sw.Elapsed.TotalNanoseconds / jsonCount;
    Console.WriteLine($"dotnet raw {size} B: {rawNs:F1} ns/message (write+read), {rawAlloc} bytes allocated in {count} messages");
    Console.WriteLine($"dotnet JSON InteropRecord: {jsonNs:F1} ns/message (serialize+write+read+deserialize; of which System.Text.Json alone {codecNs:F1} ns)");
    MultiWriterCircularBuffer.Remove(name);
    return 0;
}
