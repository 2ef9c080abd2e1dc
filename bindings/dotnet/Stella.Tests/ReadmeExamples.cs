// The original StellaSharedMemory README's C# examples, word for word inside each test, but:
// - the segment names get a per-run suffix (tests run beside each other and must not meet old
//   segments), written as `var name = ...` before the example;
// - the Process A / Process B halves run one after the other in this process;
// - Console output goes to a StringWriter so the test can check it;
// - one comment line is added (that the ring outlives the writer's handle), and the two
//   Backpressure examples, which only construct a writer, are followed by checks.
using Stella;
using Xunit;

namespace Stella.Tests;

[Collection("console")]
public class ReadmeExamples
{
    private static string Unique(string name) => ApiTests.Unique(name);

    private static string CaptureConsole(Action body)
    {
        TextWriter old = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            body();
        }
        finally
        {
            Console.SetOut(old);
        }
        return output.ToString();
    }

    [Fact]
    public void SharedMemoryExample()
    {
        string MySharedData = Unique("MySharedData");
        string printed = CaptureConsole(() =>
        {
            // Process A: Creates and writes data
            using var serializer = new JsonSerializer();
            using (var shm = new SharedMemory(MySharedData, SharedMemoryMode.Create, 1024))
            {
                var myData = new { Message = "Hello from Process A", Value = 42 };
                shm.Write(myData, serializer);
            }

            // Process B: Opens and reads data
            using (var shm = new SharedMemory(MySharedData, SharedMemoryMode.Open))
            {
                var receivedData = shm.Read<dynamic>(serializer);
                Console.WriteLine(receivedData.Message); // "Hello from Process A"
            }
        });
        SharedMemory.Remove(MySharedData);
        Assert.Equal("Hello from Process A" + Environment.NewLine, printed);
    }

    [Fact]
    public void CircularBufferExample()
    {
        string MyLogBuffer = Unique("MyLogBuffer");
        string printed = CaptureConsole(() =>
        {
            // --- WRITER PROCESS ---
            // Creates the buffer and writes messages.
            // Multiple instances of this process can run and write concurrently.
            var serializer = new JsonSerializer();
            var message = new { Timestamp = DateTime.UtcNow, LogLevel = "Info", Text = "Application starting." };

            // (the ring outlives the writer's handle: Stella keeps a segment until it is removed)
            using (var buffer = new MultiWriterCircularBuffer(MyLogBuffer, SharedMemoryMode.Create, 65536))
            {
                buffer.Write(message, serializer);
            }

            // --- READER PROCESS ---
            // Opens the buffer and reads all available messages.
            // Multiple, independent readers can run.
            using (var reader = new LockFreeBufferReader(MyLogBuffer))
            {
                while (reader.TryRead(serializer, out dynamic? logEntry))
                {
                    Console.WriteLine($"[{logEntry.Timestamp}] {logEntry.LogLevel}: {logEntry.Text}");
                }
            }
        });
        MultiWriterCircularBuffer.Remove(MyLogBuffer);
        Assert.Matches(@"^\[\d{4}-\d\d-\d\dT[0-9:.]+Z\] Info: Application starting\.\r?\n$", printed);
    }

    [Fact]
    public void OverwriteExample()
    {
        string MyFastBuffer = Unique("MyFastBuffer");
        {
            // The writer will not block, even if readers are slow.
            using var writer = new MultiWriterCircularBuffer(
                name: MyFastBuffer,
                mode: SharedMemoryMode.Create,
                capacity: 16384,
                behavior: WriteBehavior.Overwrite // Explicitly setting the default
            );
            using var slow = new LockFreeBufferReader(MyFastBuffer);
            byte[] chunk = new byte[1000];
            for (int i = 0; i < 100; ++i) Assert.True(writer.TryWrite(chunk));  // never waits
            int read = 0;
            while (slow.TryRead(chunk, out _)) ++read;
            Assert.True(slow.MessagesLost > 0, "a slow reader of an Overwrite ring loses the oldest messages");
            Assert.Equal(100, read + slow.MessagesLost);
        }
        MultiWriterCircularBuffer.Remove(MyFastBuffer);
    }

    [Fact]
    public void BlockExample()
    {
        string MyGuaranteedBuffer = Unique("MyGuaranteedBuffer");
        {
            // The writer will pause if it gets too far ahead of the slowest reader.
            using var writer = new MultiWriterCircularBuffer(
                name: MyGuaranteedBuffer,
                mode: SharedMemoryMode.Create,
                capacity: 16384,
                behavior: WriteBehavior.Block
            );
            using var slow = new LockFreeBufferReader(MyGuaranteedBuffer);
            byte[] chunk = new byte[1000];
            int written = 0;
            while (writer.TryWrite(chunk)) ++written;
            Assert.InRange(written, 1, 16);  // full: TryWrite says so instead of overwriting
            Assert.False(writer.Write(chunk, TimeSpan.FromMilliseconds(50)));  // and Write times out
            // The reader frees space (the ring may hand it back in more than one record's worth,
            // so read until the writer gets through): then the blocked write goes in.
            int read = 0;
            while (!writer.TryWrite(chunk))
            {
                Assert.True(slow.TryRead(chunk, out _), $"the ring stays full after reading all {read} messages");
                ++read;
            }
            Assert.Equal(0, slow.MessagesLost);
        }
        MultiWriterCircularBuffer.Remove(MyGuaranteedBuffer);
    }

    // The example of this repository's README (.NET section), as written but for the name.
    [Fact]
    public void DotnetSectionExample()
    {
        string MyLogBuffer = Unique("MyLogBuffer");
        string printed = CaptureConsole(() =>
        {
            var serializer = new JsonSerializer();  // System.Text.Json
            using var writer = new MultiWriterCircularBuffer(MyLogBuffer, SharedMemoryMode.OpenOrCreate, 65536,
                                                             behavior: WriteBehavior.Overwrite);
            writer.Write(new { Timestamp = DateTime.UtcNow, LogLevel = "Info", Text = "from C#" }, serializer);

            // Reads what C# and C++ writers wrote (examples/ring_example writes these JSON entries too).
            using var reader = new LockFreeBufferReader(MyLogBuffer);
            while (reader.TryRead(serializer, out dynamic? logEntry))
            {
                Console.WriteLine($"[{logEntry.Timestamp}] {logEntry.LogLevel}: {logEntry.Text}");
            }
        });
        MultiWriterCircularBuffer.Remove(MyLogBuffer);
        Assert.Matches(@"^\[\d{4}-[0-9T:.-]+Z\] Info: from C#\r?\n$", printed);
    }
}
