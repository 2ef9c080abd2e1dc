using System.Buffers;

namespace Stella;

/// <summary>A ring writer: many processes (C#, C++, C, Python) write messages to one ring
/// (stella::MultiWriterCircularBuffer). Not for two threads at once: open one per thread.</summary>
public sealed unsafe class MultiWriterCircularBuffer : IDisposable
{
    private IntPtr _handle;
    private readonly ArrayBufferWriter<byte> _scratch = new(256);

    /// <param name="name">segment name: 1-64 of [A-Za-z0-9._-]</param>
    /// <param name="mode">Create, Open or OpenOrCreate</param>
    /// <param name="capacity">bytes of record data when creating: a power of two, 4096 to 2^40</param>
    /// <param name="behavior">Overwrite (default) or Block, applied when creating</param>
    /// <param name="recoveryTimeout">no progress this long triggers crash recovery (default 1 s)</param>
    /// <param name="maxReaders">reader slots when creating (default 32)</param>
    /// <param name="maxWriters">writer slots when creating (default 64)</param>
    public MultiWriterCircularBuffer(string name, SharedMemoryMode mode, long capacity = 0,
                                     WriteBehavior behavior = WriteBehavior.Overwrite, TimeSpan? recoveryTimeout = null,
                                     int maxReaders = 0, int maxWriters = 0)
    {
        Name = name;
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        NativeRingOptions options;
        Native.stella_ring_options_init(&options);
        if (recoveryTimeout is TimeSpan t) options.RecoveryTimeoutNs = Native.Nanoseconds(t);
        if (maxReaders > 0) options.MaxReaders = (uint)maxReaders;
        if (maxWriters > 0) options.MaxWriters = (uint)maxWriters;
        IntPtr handle;
        fixed (byte* n = Native.Name(name))
        {
            int rc = Native.stella_writer_open(n, (int)mode, (nuint)capacity, (int)behavior, &options, &handle);
            if (rc != Native.Ok) Native.Throw(rc, name);
        }
        _handle = handle;
    }

    ~MultiWriterCircularBuffer() => Close();

    /// <summary>The ring's name.</summary>
    public string Name { get; }
    /// <summary>Bytes of record data.</summary>
    public long Capacity => (long)Native.stella_writer_capacity(Handle);
    /// <summary>The largest message, Capacity/2 - 32 bytes.</summary>
    public int MaxMessageSize => (int)Math.Min(int.MaxValue, (ulong)Native.stella_writer_max_message_size(Handle));
    /// <summary>The ring's behavior (fixed when it was created).</summary>
    public WriteBehavior Behavior => (WriteBehavior)Native.stella_writer_behavior(Handle);
    /// <summary>Messages this handle has written and committed.</summary>
    public long MessagesWritten => (long)Native.stella_writer_messages_written(Handle);

    private IntPtr Handle
    {
        get
        {
            if (_handle == IntPtr.Zero) Guard.Disposed(nameof(MultiWriterCircularBuffer));
            return _handle;
        }
    }

    /// <summary>Serializes and writes one message. Block rings wait for space at most
    /// <paramref name="timeout"/> (null: forever); false if that ran out (nothing written).</summary>
    public bool Write<T>(T message, ISerializer serializer, TimeSpan? timeout = null)
    {
        return Write(Codec.Encode(serializer, message, _scratch, Name), timeout);
    }

    /// <summary>Writes one message of raw bytes (copied into the ring; no allocation). Block
    /// rings wait at most <paramref name="timeout"/> (null: forever); false if it ran out.</summary>
    public bool Write(ReadOnlySpan<byte> message, TimeSpan? timeout = null)
    {
        int rc;
        fixed (byte* p = message) rc = Native.stella_writer_write(Handle, p, (nuint)message.Length, Native.Nanoseconds(timeout));
        if (rc == Native.Ok) return true;
        if (rc == Native.Timeout) return false;
        Native.Throw(rc, Name);
        return false;
    }

    /// <summary>Like <see cref="Write(ReadOnlySpan{byte}, TimeSpan?)"/> but never waits: false
    /// if the ring has no room now (Block).</summary>
    public bool TryWrite(ReadOnlySpan<byte> message)
    {
        int rc;
        fixed (byte* p = message) rc = Native.stella_writer_try_write(Handle, p, (nuint)message.Length);
        if (rc == Native.Ok) return true;
        if (rc == Native.WouldBlock) return false;
        Native.Throw(rc, Name);
        return false;
    }

    /// <summary>Zero copy: reserves a record of exactly <paramref name="length"/> bytes in the
    /// ring; fill the span, then <see cref="Commit"/> (or <see cref="Abort"/>). Readers wait at an
    /// uncommitted record, so commit promptly. Returns false on timeout (Block rings).</summary>
    public bool Claim(int length, out Span<byte> record, TimeSpan? timeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        byte* data;
        int rc = Native.stella_writer_claim(Handle, (nuint)length, Native.Nanoseconds(timeout), &data);
        if (rc == Native.Ok)
        {
            record = new Span<byte>(data, length);
            return true;
        }
        record = default;
        if (rc == Native.Timeout) return false;
        Native.Throw(rc, Name);
        return false;
    }

    /// <summary>Like <see cref="Claim"/> but never waits: false if there is no room now.</summary>
    public bool TryClaim(int length, out Span<byte> record)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        byte* data;
        int rc = Native.stella_writer_try_claim(Handle, (nuint)length, &data);
        if (rc == Native.Ok)
        {
            record = new Span<byte>(data, length);
            return true;
        }
        record = default;
        if (rc == Native.WouldBlock) return false;
        Native.Throw(rc, Name);
        return false;
    }

    /// <summary>Publishes the pending claim to readers.</summary>
    public void Commit()
    {
        int rc = Native.stella_writer_commit(Handle);
        if (rc != Native.Ok) Native.Throw(rc, Name);
    }

    /// <summary>Withdraws the pending claim (readers skip it).</summary>
    public void Abort()
    {
        int rc = Native.stella_writer_abort(Handle);
        if (rc != Native.Ok) Native.Throw(rc, Name);
    }

    /// <summary>Removes the ring's name (mapped handles keep working); false if there was none.</summary>
    public static bool Remove(string name)
    {
        fixed (byte* n = Native.Name(name)) return Native.stella_ring_remove(n) == Native.Ok;
    }

    private void Close()
    {
        IntPtr h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h != IntPtr.Zero) Native.stella_writer_close(h);
    }

    /// <summary>Closes the writer (aborting an uncommitted claim).</summary>
    public void Dispose()
    {
        Close();
        GC.SuppressFinalize(this);
    }
}
