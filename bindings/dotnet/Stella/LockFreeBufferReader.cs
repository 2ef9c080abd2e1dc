using System.Diagnostics.CodeAnalysis;
namespace Stella;

/// <summary>A ring reader with its own cursor (stella::LockFreeBufferReader). Readers never
/// block writers or each other. Not for two threads at once: open one per thread.</summary>
public sealed unsafe class LockFreeBufferReader : IDisposable
{
    private IntPtr _handle;
    private byte[] _buffer;

    /// <param name="name">the ring's segment name</param>
    /// <param name="start">Oldest (default) or Latest</param>
    /// <param name="recoveryTimeout">no progress this long triggers crash recovery (default 1 s)</param>
    public LockFreeBufferReader(string name, StartPosition start = StartPosition.Oldest, TimeSpan? recoveryTimeout = null)
    {
        Name = name;
        NativeReaderOptions options;
        Native.stella_reader_options_init(&options);
        options.Start = (uint)start;
        if (recoveryTimeout is TimeSpan t) options.RecoveryTimeoutNs = Native.Nanoseconds(t);
        IntPtr handle;
        fixed (byte* n = Native.Name(name))
        {
            int rc = Native.stella_reader_open(n, &options, &handle);
            if (rc != Native.Ok) Native.Throw(rc, name);
        }
        _handle = handle;
        _buffer = new byte[Math.Min(4096, MaxMessageSize)];
    }

    ~LockFreeBufferReader() => Close();

    /// <summary>The ring's name.</summary>
    public string Name { get; }
    /// <summary>The largest message of this ring: a buffer of this size always suffices.</summary>
    public int MaxMessageSize => (int)Math.Min(int.MaxValue, (ulong)Native.stella_reader_max_message_size(Handle));
    /// <summary>Messages read (or released after a peek) so far.</summary>
    public long MessagesRead => (long)Native.stella_reader_messages_read(Handle);
    /// <summary>Messages overwritten before this reader could read them (Overwrite mode).</summary>
    public long MessagesLost => (long)Native.stella_reader_messages_lost(Handle);
    /// <summary>Times this reader was evicted for stalling (it then resumed at the oldest message).</summary>
    public long Evictions => (long)Native.stella_reader_evictions(Handle);

    private IntPtr Handle
    {
        get
        {
            if (_handle == IntPtr.Zero) Guard.Disposed(nameof(LockFreeBufferReader));
            return _handle;
        }
    }

    /// <summary>Reads and deserializes the next message if there is one now; false if none.</summary>
    public bool TryRead<T>(ISerializer serializer, [NotNullWhen(true)] out T? value) => Read(serializer, out value, TimeSpan.Zero);

    /// <summary>Waits at most <paramref name="timeout"/> (null: forever) for the next message and
    /// deserializes it; false if none came.</summary>
    public bool Read<T>(ISerializer serializer, [NotNullWhen(true)] out T? value, TimeSpan? timeout)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        long ns = Native.Nanoseconds(timeout);
        nuint n;
        int rc;
        while ((rc = RawRead(_buffer, ns, out n)) == Native.BufferTooSmall) _buffer = new byte[(int)n];  // grows to the largest message
        if (rc != Native.Ok)
        {
            value = default;
            return false;
        }
        value = Codec.Decode<T>(serializer, new ReadOnlyMemory<byte>(_buffer, 0, (int)n), Name, "message");
        return true;
    }

    /// <summary>Copies the next message into <paramref name="buffer"/> if there is one now;
    /// false if none. Throws <see cref="StellaErrorCode.BufferTooSmall"/> if it does not fit
    /// (the message stays next; <see cref="MaxMessageSize"/> always suffices).</summary>
    public bool TryRead(Span<byte> buffer, out int length) => Read(buffer, out length, TimeSpan.Zero);

    /// <summary>Like <see cref="TryRead(Span{byte}, out int)"/>, waiting at most <paramref name="timeout"/>
    /// (null: forever).</summary>
    public bool Read(Span<byte> buffer, out int length, TimeSpan? timeout)
    {
        int rc = RawRead(buffer, Native.Nanoseconds(timeout), out nuint n);
        length = rc == Native.Ok ? (int)n : 0;
        if (rc == Native.BufferTooSmall)
        {
            throw new StellaException(StellaErrorCode.BufferTooSmall, Name,
                                      $"stella: segment '{Name}': the next message is {n} bytes, the buffer {buffer.Length}");
        }
        return rc == Native.Ok;
    }

    // One read: Ok, Empty/Timeout (nothing), BufferTooSmall (n = the size needed); throws failures.
    // An eviction resumed the reader at the oldest message (Evictions and MessagesLost count it): read again.
    private int RawRead(Span<byte> buffer, long ns, out nuint n)
    {
        while (true)
        {
            int rc;
            fixed (byte* p = buffer)
            {
                nuint length;
                rc = ns == 0 ? Native.stella_reader_try_read(Handle, p, (nuint)buffer.Length, &length)
                             : Native.stella_reader_read(Handle, p, (nuint)buffer.Length, &length, ns);
                n = length;
            }
            switch (rc)
            {
                case Native.Ok:
                case Native.BufferTooSmall:
                    return rc;
                case Native.Empty:
                case Native.Timeout:
                    return Native.Empty;
                case Native.Evicted:
                    continue;
                default:
                    Native.Throw(rc, Name);
                    return rc;
            }
        }
    }

    /// <summary>Zero copy: the next message in place, without consuming it; false if none now.
    /// The span is valid until <see cref="Release"/>, the next read or peek, or Dispose.</summary>
    public bool TryPeek(out ReadOnlySpan<byte> message) => Peek(out message, TimeSpan.Zero);

    /// <summary>Like <see cref="TryPeek"/>, waiting at most <paramref name="timeout"/> (null: forever).</summary>
    public bool Peek(out ReadOnlySpan<byte> message, TimeSpan? timeout)
    {
        long ns = Native.Nanoseconds(timeout);
        while (true)
        {
            NativeView view;
            int rc = ns == 0 ? Native.stella_reader_try_peek(Handle, &view) : Native.stella_reader_peek(Handle, &view, ns);
            if (rc == Native.Ok)
            {
                message = new ReadOnlySpan<byte>(view.Data, checked((int)view.Length));
                return true;
            }
            message = default;
            if (rc == Native.Empty || rc == Native.Timeout) return false;
            if (rc == Native.Evicted) continue;
            Native.Throw(rc, Name);
        }
    }

    /// <summary>Moves past the peeked message. False if a writer overwrote it while it was
    /// looked at (Overwrite mode): discard what was read from it.</summary>
    public bool Release()
    {
        int rc = Native.stella_reader_release(Handle);
        if (rc == Native.Ok) return true;
        if (rc == Native.Overwritten) return false;
        Native.Throw(rc, Name);
        return false;
    }

    private void Close()
    {
        IntPtr h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h != IntPtr.Zero) Native.stella_reader_close(h);
    }

    /// <summary>Frees the reader slot.</summary>
    public void Dispose()
    {
        Close();
        GC.SuppressFinalize(this);
    }
}
