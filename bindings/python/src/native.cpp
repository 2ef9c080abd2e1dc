// stella._native: a thin pybind11 layer over the C API (stella/stella.h). The Pythonic
// surface (names, enums, context managers, iteration, JSON/msgpack, the exception classes)
// is stella/__init__.py, which subclasses the classes defined here.
//
// What this layer guarantees:
// - Waiting never holds the GIL, and a wait is cut into slices of kSliceNs so that Ctrl-C
//   (PyErr_CheckSignals) ends it with KeyboardInterrupt within about one slice.
// - A handle is never used by two threads at once (the C API forbids it): a call that
//   finds the handle busy (another thread waiting in it) raises RuntimeError.
// - Zero-copy memory (peek, claim) is exported through MappedBuffer, which counts the
//   buffers made from it. Before the memory becomes invalid (release, commit, abort, the
//   next read or peek, close) the memoryview handed out is released, and if anything else
//   still points into the mapping (a slice, a NumPy array) the call raises BufferError and
//   the message or claim stays pending (only its memoryview is released). A handle destroyed while such buffers live is not closed (its mapping
//   stays): no Python object can reach released or unmapped memory.
// - Every failure becomes stella.StellaError (a subclass per code) built by
//   stella._error_from_status(code, segment, message) from the thread's last C error.
#include <pthread.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stella/stella.h"

namespace py = pybind11;

namespace {

constexpr std::int64_t kSliceNs = 100'000'000;  // how long a wait may go without checking signals
constexpr std::size_t kInitialReadBuffer = 64 * 1024;

// A failure of the C API, turned into a stella.StellaError subclass by the translator.
struct Failure {
  int code;
  std::string segment;
  std::string message;
};

[[noreturn]] void raise_status(int status, const char* segment) {
  stella_error e;
  stella_last_error(&e);
  if (e.code == status) throw Failure{status, e.segment, e.message};
  // An outcome used as a failure (EMPTY, TIMEOUT, WOULD_BLOCK record nothing).
  throw Failure{status, segment, std::string("stella: segment '") + segment + "': " + stella_status_name(status)};
}

void check(int status, const char* segment) {
  if (status != STELLA_OK) raise_status(status, segment);
}

// Negative or None: forever. Seconds as a float otherwise (NaN is refused, not cast).
std::optional<std::int64_t> to_ns(std::optional<double> seconds) {
  if (seconds && std::isnan(*seconds)) throw py::value_error("stella: a timeout may not be NaN");
  if (!seconds || *seconds < 0) return std::nullopt;
  const double ns = *seconds * 1e9;
  if (ns >= 9.2e18) return std::nullopt;
  return static_cast<std::int64_t>(ns);
}

// recovery_timeout: a positive, finite number of seconds.
std::int64_t recovery_ns(double seconds, const std::string& segment) {
  if (!(seconds > 0) || !(seconds * 1e9 < 9.2e18)) {
    throw Failure{STELLA_INVALID_ARGUMENT, segment,
                  "stella: segment '" + segment + "': recovery_timeout must be a positive number of seconds, not " +
                      std::to_string(seconds)};
  }
  return static_cast<std::int64_t>(seconds * 1e9);
}

// Runs attempt(slice_ns) without the GIL until it returns something other than
// STELLA_TIMEOUT or `timeout` has passed, checking for signals between slices.
template <class Attempt>
int wait_sliced(std::optional<std::int64_t> timeout_ns, Attempt&& attempt) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  for (;;) {
    std::int64_t slice = kSliceNs;
    if (timeout_ns) {
      const std::int64_t elapsed =
          std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start).count();
      const std::int64_t remaining = *timeout_ns - elapsed;
      if (remaining <= 0) return STELLA_TIMEOUT;
      slice = std::min(remaining, kSliceNs);
    }
    int rc;
    {
      py::gil_scoped_release nogil;
      rc = attempt(slice);
    }
    if (rc != STELLA_TIMEOUT) return rc;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }
}

// A contiguous bytes-like object (bytes, bytearray, memoryview, array, NumPy) held for the
// duration of a call; while held, its exporter cannot resize it.
class InBuffer {
 public:
  explicit InBuffer(const py::object& obj) {
    if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_C_CONTIGUOUS) != 0) throw py::error_already_set();
  }
  ~InBuffer() { PyBuffer_Release(&view_); }
  InBuffer(const InBuffer&) = delete;
  InBuffer& operator=(const InBuffer&) = delete;
  const void* data() const { return view_.buf; }
  std::size_t size() const { return static_cast<std::size_t>(view_.len); }

 private:
  Py_buffer view_{};
};

// ---- MappedBuffer: exports memory inside a mapping, and knows how many buffers use it ----
struct MappedBuffer {
  PyObject_HEAD void* data;
  Py_ssize_t length;
  int readonly;
  int valid;
  Py_ssize_t exports;
};

int mapped_getbuffer(PyObject* self, Py_buffer* view, int flags) {
  auto* mb = reinterpret_cast<MappedBuffer*>(self);
  if (!mb->valid) {
    PyErr_SetString(PyExc_ValueError, "stella: this zero-copy buffer was released (its message or claim is gone)");
    return -1;
  }
  if (PyBuffer_FillInfo(view, self, mb->data, mb->length, mb->readonly, flags) != 0) return -1;
  ++mb->exports;
  return 0;
}

void mapped_releasebuffer(PyObject* self, Py_buffer*) { --reinterpret_cast<MappedBuffer*>(self)->exports; }

void mapped_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);  // a heap type: each instance holds a reference to it
  type->tp_free(self);
  Py_DECREF(type);
}

PyTypeObject* mapped_buffer_type = nullptr;  // created by the module's init, never freed

void make_mapped_buffer_type() {
  static PyType_Slot slots[] = {
      {Py_tp_dealloc, reinterpret_cast<void*>(mapped_dealloc)},
      {Py_bf_getbuffer, reinterpret_cast<void*>(mapped_getbuffer)},
      {Py_bf_releasebuffer, reinterpret_cast<void*>(mapped_releasebuffer)},
      {Py_tp_doc, const_cast<char*>("Memory inside a Stella mapping (a peeked message or a claim); "
                                    "use it through a memoryview.")},
      {0, nullptr}};
  static PyType_Spec spec = {"stella._native.MappedBuffer", sizeof(MappedBuffer), 0, Py_TPFLAGS_DEFAULT, slots};
  mapped_buffer_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
  if (mapped_buffer_type == nullptr) throw py::error_already_set();
}

// The memoryview handed out for a peek or claim, and its exporter.
class ZeroCopy {
 public:
  bool active() const { return bool(view_); }

  py::object open(void* data, std::size_t length, bool readonly) {
    auto* mb = PyObject_New(MappedBuffer, mapped_buffer_type);
    if (mb == nullptr) throw py::error_already_set();
    mb->data = data;
    mb->length = static_cast<Py_ssize_t>(length);
    mb->readonly = readonly ? 1 : 0;
    mb->valid = 1;
    mb->exports = 0;
    exporter_ = py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(mb));
    PyObject* mv = PyMemoryView_FromObject(exporter_.ptr());
    if (mv == nullptr) {
      exporter_ = py::object();
      throw py::error_already_set();
    }
    view_ = py::reinterpret_steal<py::object>(mv);
    return view_;
  }

  // Makes the memory unreachable from Python, or raises BufferError (the memory stays valid).
  void close(const char* what) {
    if (!view_) return;
    view_.attr("release")();  // BufferError if something was exported from the memoryview itself
    auto* mb = reinterpret_cast<MappedBuffer*>(exporter_.ptr());
    if (mb->exports > 0) {
      throw py::buffer_error(std::string("stella: ") + std::to_string(mb->exports) + " buffer(s) made from the " +
                             what +
                             "'s memoryview (slices, arrays) are still alive: delete them first, since the "
                             "memory they point to is about to become invalid");
    }
    mb->valid = 0;
    view_ = py::object();
    exporter_ = py::object();
  }

  // For destructors: true if the memory is unreachable now; false if buffers made from it
  // live on, and the handle must then stay open (its mapping mapped) for ever.
  bool try_close() noexcept {
    try {
      close("handle");
      return true;
    } catch (...) {
      if (exporter_) reinterpret_cast<MappedBuffer*>(exporter_.ptr())->valid = 0;
      return false;
    }
  }

 private:
  py::object view_;
  py::object exporter_;
};

// Marks a handle busy for the duration of a call (the GIL is held when it is set and
// cleared, so a plain bool suffices).
class Busy {
 public:
  Busy(bool& flag, const char* kind, const char* name) : flag_(flag) {
    if (flag_) {
      throw std::runtime_error(std::string("stella: ") + kind + " '" + name +
                               "' is in use by another thread (open one per thread)");
    }
    flag_ = true;
  }
  ~Busy() { flag_ = false; }
  Busy(const Busy&) = delete;
  Busy& operator=(const Busy&) = delete;

 private:
  bool& flag_;
};

[[noreturn]] void raise_closed(const char* kind, const std::string& name) {
  throw py::value_error(std::string("stella: ") + kind + " '" + name + "' is closed");
}

// Handles are not inherited across fork() (stella.h): a child (multiprocessing's fork start
// method, os.fork) must open its own. A handle remembers the fork generation it was opened
// in; in a child it refuses every call, and it is never closed there, since closing would
// free the parent's reader slot or writer state in the shared ring.
unsigned g_fork_generation = 0;  // only changed in a child, before anything else runs

void count_fork_in_child() { ++g_fork_generation; }

void check_same_process(unsigned opened_in, const char* kind, const std::string& name) {
  if (opened_in != g_fork_generation) {
    throw Failure{STELLA_INVALID_ARGUMENT, name,
                  std::string("stella: segment '") + name + "': this " + kind +
                      " was opened before fork(), in the parent process: open a new one in this process"};
  }
}

// ---- Writer ----
class Writer {
 public:
  Writer(const std::string& name, int mode, std::size_t capacity, int behavior, std::uint32_t max_readers,
         std::uint32_t max_writers, std::uint32_t spin_iterations, std::optional<double> recovery_timeout,
         std::uint32_t permissions, std::int64_t uid, std::int64_t gid)
      : name_(name) {
    stella_ring_options o;
    stella_ring_options_init(&o);
    if (max_readers != 0) o.max_readers = max_readers;
    if (max_writers != 0) o.max_writers = max_writers;
    if (spin_iterations != UINT32_MAX) o.spin_iterations = spin_iterations;
    if (recovery_timeout) o.recovery_timeout_ns = recovery_ns(*recovery_timeout, name);
    if (permissions != 0) o.permissions.mode = permissions;
    o.permissions.uid = uid;
    o.permissions.gid = gid;
    int rc;
    {
      py::gil_scoped_release nogil;
      rc = stella_writer_open(name.c_str(), static_cast<stella_mode>(mode), capacity,
                              static_cast<stella_behavior>(behavior), &o, &w_);
    }
    check(rc, name.c_str());
    blocking_ = stella_writer_behavior(w_) == STELLA_BLOCK;
  }
  ~Writer() {
    // Left open on purpose when buffers into its claim live (ZeroCopy::try_close) or in a
    // fork()ed child (check_same_process).
    if (claim_.try_close() && opened_in_ == g_fork_generation) stella_writer_close(w_);
  }

  bool write(const py::object& data, std::optional<double> timeout) {
    Busy busy(busy_, "writer", name_.c_str());
    stella_writer* w = handle();
    InBuffer in(data);
    int rc;
    if (!blocking_) {
      rc = stella_writer_write(w, in.data(), in.size(), 0);  // Overwrite never waits
    } else {
      rc = stella_writer_try_write(w, in.data(), in.size());
      if (rc == STELLA_WOULD_BLOCK) {
        rc = wait_sliced(to_ns(timeout), [&](std::int64_t ns) { return stella_writer_write(w, in.data(), in.size(), ns); });
      }
    }
    if (rc == STELLA_TIMEOUT) return false;
    check(rc, name_.c_str());
    return true;
  }

  bool try_write(const py::object& data) {
    Busy busy(busy_, "writer", name_.c_str());
    InBuffer in(data);
    const int rc = stella_writer_try_write(handle(), in.data(), in.size());
    if (rc == STELLA_WOULD_BLOCK) return false;
    check(rc, name_.c_str());
    return true;
  }

  // A writable memoryview of exactly `length` bytes, or None (timeout / would block).
  py::object claim(std::size_t length, std::optional<double> timeout) {
    Busy busy(busy_, "writer", name_.c_str());
    stella_writer* w = handle();
    if (claim_.active()) throw py::value_error("stella: writer '" + name_ + "' already has a pending claim");
    void* data = nullptr;
    int rc = stella_writer_try_claim(w, length, &data);
    if (rc == STELLA_WOULD_BLOCK) {
      if (timeout && *timeout == 0) return py::none();
      rc = wait_sliced(to_ns(timeout), [&](std::int64_t ns) { return stella_writer_claim(w, length, ns, &data); });
    }
    if (rc == STELLA_TIMEOUT) return py::none();
    check(rc, name_.c_str());
    try {
      return claim_.open(data, length, false);
    } catch (...) {
      stella_writer_abort(w);
      throw;
    }
  }

  void commit() { finish(true); }
  void abort() { finish(false); }

  void close() {
    if (w_ == nullptr) return;
    Busy busy(busy_, "writer", name_.c_str());
    claim_.close("claim");
    if (opened_in_ == g_fork_generation) stella_writer_close(w_);
    w_ = nullptr;
  }

  bool closed() const { return w_ == nullptr; }
  const std::string& name() const { return name_; }
  std::size_t capacity() { return stella_writer_capacity(handle()); }
  std::size_t max_message_size() { return stella_writer_max_message_size(handle()); }
  int behavior() { return static_cast<int>(stella_writer_behavior(handle())); }
  std::uint64_t messages_written() { return stella_writer_messages_written(handle()); }

 private:
  stella_writer* handle() {
    if (w_ == nullptr) raise_closed("writer", name_);
    check_same_process(opened_in_, "writer", name_);
    return w_;
  }
  void finish(bool commit) {
    Busy busy(busy_, "writer", name_.c_str());
    stella_writer* w = handle();
    if (!claim_.active()) throw py::value_error("stella: writer '" + name_ + "' has no pending claim");
    claim_.close("claim");
    check(commit ? stella_writer_commit(w) : stella_writer_abort(w), name_.c_str());
  }

  std::string name_;
  stella_writer* w_ = nullptr;
  unsigned opened_in_ = g_fork_generation;
  bool blocking_ = false;
  bool busy_ = false;
  ZeroCopy claim_;
};

// ---- Reader ----
class Reader {
 public:
  Reader(const std::string& name, int start, std::uint32_t spin_iterations, std::optional<double> recovery_timeout)
      : name_(name) {
    stella_reader_options o;
    stella_reader_options_init(&o);
    o.start = static_cast<std::uint32_t>(start);
    if (spin_iterations != UINT32_MAX) o.spin_iterations = spin_iterations;
    if (recovery_timeout) o.recovery_timeout_ns = recovery_ns(*recovery_timeout, name);
    int rc;
    {
      py::gil_scoped_release nogil;
      rc = stella_reader_open(name.c_str(), &o, &r_);
    }
    check(rc, name.c_str());
  }
  ~Reader() {
    // Left open on purpose when buffers into its peeked message live (ZeroCopy::try_close)
    // or in a fork()ed child (check_same_process).
    if (peek_.try_close() && opened_in_ == g_fork_generation) stella_reader_close(r_);
  }

  // The next message as bytes, or None if none came within `timeout` (0: do not wait).
  // One copy, from the ring straight into the new bytes object: peek, copy, release. If an
  // Overwrite writer overwrote the message meanwhile, the copy is dropped and the reader,
  // which has moved on (and counted the loss), takes the next one, which is there already.
  py::object read(std::optional<double> timeout) {
    Busy busy(busy_, "reader", name_.c_str());
    stella_reader* r = handle();
    peek_.close("peeked message");
    for (;;) {
      stella_view v{};
      int rc = peek_next(r, &v, 0);  // with the GIL: a message that is there costs no GIL round trip
      if (rc == STELLA_EMPTY && !(timeout && *timeout == 0)) {
        rc = wait_sliced(to_ns(timeout), [&](std::int64_t ns) { return peek_next(r, &v, ns); });
      }
      if (rc == STELLA_TIMEOUT || rc == STELLA_EMPTY) return py::none();
      check(rc, name_.c_str());
      py::bytes out(static_cast<const char*>(v.data), v.length);  // on MemoryError the message stays next
      rc = stella_reader_release(r);
      if (rc == STELLA_OK) return out;
      if (rc != STELLA_OVERWRITTEN) check(rc, name_.c_str());
    }
  }

  // Copies the next message into a writable buffer; returns its size, or None. If the
  // buffer is too small, raises BufferTooSmallError (the message stays next).
  py::object read_into(const py::object& out, std::optional<double> timeout) {
    Busy busy(busy_, "reader", name_.c_str());
    stella_reader* r = handle();
    peek_.close("peeked message");
    Py_buffer view;
    if (PyObject_GetBuffer(out.ptr(), &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) != 0) throw py::error_already_set();
    struct Release {
      Py_buffer* v;
      ~Release() { PyBuffer_Release(v); }
    } release{&view};
    const auto cap = static_cast<std::size_t>(view.len);
    std::size_t n = 0;
    auto attempt = [&](std::int64_t ns) {
      for (;;) {
        const int rc = ns == 0 ? stella_reader_try_read(r, view.buf, cap, &n) : stella_reader_read(r, view.buf, cap, &n, ns);
        if (rc != STELLA_EVICTED) return rc;
      }
    };
    int rc = attempt(0);
    if ((rc == STELLA_EMPTY) && !(timeout && *timeout == 0)) rc = wait_sliced(to_ns(timeout), attempt);
    if (rc == STELLA_TIMEOUT || rc == STELLA_EMPTY) return py::none();
    if (rc == STELLA_BUFFER_TOO_SMALL) {
      throw Failure{rc, name_,
                    "stella: segment '" + name_ + "': the message is " + std::to_string(n) +
                        " bytes, the buffer only " + std::to_string(cap) + " (the message stays next)"};
    }
    check(rc, name_.c_str());
    return py::int_(n);
  }

  // (memoryview, sequence) of the next message in place, or None.
  py::object peek(std::optional<double> timeout) {
    Busy busy(busy_, "reader", name_.c_str());
    stella_reader* r = handle();
    peek_.close("peeked message");
    stella_view v{};
    int rc = peek_next(r, &v, 0);
    if (rc == STELLA_EMPTY && !(timeout && *timeout == 0)) {
      rc = wait_sliced(to_ns(timeout), [&](std::int64_t ns) { return peek_next(r, &v, ns); });
    }
    if (rc == STELLA_TIMEOUT || rc == STELLA_EMPTY) return py::none();
    check(rc, name_.c_str());
    py::object mv = peek_.open(const_cast<void*>(v.data), v.length, true);
    return py::make_tuple(mv, v.sequence);
  }

  // Moves past the peeked message: True, or False if it was overwritten meanwhile.
  bool release() {
    Busy busy(busy_, "reader", name_.c_str());
    stella_reader* r = handle();
    if (!peek_.active()) throw py::value_error("stella: reader '" + name_ + "' has no peeked message to release");
    peek_.close("peeked message");
    const int rc = stella_reader_release(r);
    if (rc == STELLA_OVERWRITTEN) return false;
    check(rc, name_.c_str());
    return true;
  }

  void close() {
    if (r_ == nullptr) return;
    Busy busy(busy_, "reader", name_.c_str());
    peek_.close("peeked message");
    if (opened_in_ == g_fork_generation) stella_reader_close(r_);
    r_ = nullptr;
  }

  bool closed() const { return r_ == nullptr; }
  bool peeking() const { return peek_.active(); }
  const std::string& name() const { return name_; }
  std::size_t max_message_size() { return stella_reader_max_message_size(handle()); }
  std::uint64_t messages_read() { return stella_reader_messages_read(handle()); }
  std::uint64_t messages_lost() { return stella_reader_messages_lost(handle()); }
  std::uint64_t evictions() { return stella_reader_evictions(handle()); }

 private:
  stella_reader* handle() {
    if (r_ == nullptr) raise_closed("reader", name_);
    check_same_process(opened_in_, "reader", name_);
    return r_;
  }
  // The next message in place (ns == 0: without waiting). An eviction resumes at the oldest
  // message (messages_lost and evictions count it), so it simply looks again.
  static int peek_next(stella_reader* r, stella_view* v, std::int64_t ns) {
    for (;;) {
      const int rc = ns == 0 ? stella_reader_try_peek(r, v) : stella_reader_peek(r, v, ns);
      if (rc != STELLA_EVICTED) return rc;
    }
  }

  std::string name_;
  stella_reader* r_ = nullptr;
  unsigned opened_in_ = g_fork_generation;
  bool busy_ = false;
  ZeroCopy peek_;
};

// ---- Blob ----
class Blob {
 public:
  Blob(const std::string& name, int mode, std::size_t capacity, bool read_only, std::uint32_t permissions,
       std::int64_t uid, std::int64_t gid)
      : name_(name) {
    stella_blob_options o;
    stella_blob_options_init(&o);
    o.read_only = read_only ? 1 : 0;
    if (permissions != 0) o.permissions.mode = permissions;
    o.permissions.uid = uid;
    o.permissions.gid = gid;
    int rc;
    {
      py::gil_scoped_release nogil;
      rc = stella_blob_open(name.c_str(), static_cast<stella_mode>(mode), capacity, &o, &b_);
    }
    check(rc, name.c_str());
  }
  ~Blob() {
    if (opened_in_ == g_fork_generation) stella_blob_close(b_);
  }

  void write(const py::object& data) {
    stella_blob* b = handle();
    InBuffer in(data);
    int rc;
    ++writing_;  // close() refuses while a thread writes without the GIL
    {
      py::gil_scoped_release nogil;  // may wait for another writer's lock
      rc = stella_blob_write(b, in.data(), in.size());
    }
    --writing_;
    check(rc, name_.c_str());
  }

  bool try_write(const py::object& data) {
    InBuffer in(data);
    const int rc = stella_blob_try_write(handle(), in.data(), in.size());
    if (rc == STELLA_WOULD_BLOCK) return false;
    check(rc, name_.c_str());
    return true;
  }

  // The current value, or None if it was never written. Several threads may read at once,
  // so each read uses its own buffer.
  py::object read() {
    stella_blob* b = handle();
    std::vector<char> buf(std::min(kInitialReadBuffer, stella_blob_capacity(b)));
    std::size_t n = 0;
    for (;;) {
      const int rc = stella_blob_read(b, buf.data(), buf.size(), &n);
      if (rc == STELLA_EMPTY) return py::none();
      if (rc == STELLA_BUFFER_TOO_SMALL) {
        buf.resize(n);
        continue;
      }
      check(rc, name_.c_str());
      return py::bytes(buf.data(), n);
    }
  }

  void close() {
    if (writing_ > 0) {
      throw std::runtime_error("stella: shared memory '" + name_ + "' is being written by another thread");
    }
    if (opened_in_ == g_fork_generation) stella_blob_close(b_);
    b_ = nullptr;
  }
  bool closed() const { return b_ == nullptr; }
  const std::string& name() const { return name_; }
  std::size_t capacity() { return stella_blob_capacity(handle()); }
  std::uint64_t generation() { return stella_blob_generation(handle()); }
  bool read_only() { return stella_blob_read_only(handle()) != 0; }

 private:
  stella_blob* handle() {
    if (b_ == nullptr) raise_closed("shared memory", name_);
    check_same_process(opened_in_, "shared memory", name_);
    return b_;
  }
  std::string name_;
  stella_blob* b_ = nullptr;
  unsigned opened_in_ = g_fork_generation;
  int writing_ = 0;  // threads inside write() (changed with the GIL held)
};

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "The C API of Stella for Python (use the stella package, not this module)";
  make_mapped_buffer_type();
  if (pthread_atfork(nullptr, nullptr, count_fork_in_child) != 0) throw std::runtime_error("pthread_atfork failed");

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Failure& f) {
      py::object exc = py::module_::import("stella").attr("_error_from_status")(f.code, f.segment, f.message);
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
    }
  });

  const auto none = py::none();
  py::class_<Writer>(m, "Writer", py::dynamic_attr())
      .def(py::init<const std::string&, int, std::size_t, int, std::uint32_t, std::uint32_t, std::uint32_t,
                    std::optional<double>, std::uint32_t, std::int64_t, std::int64_t>(),
           py::arg("name"), py::arg("mode"), py::arg("capacity"), py::arg("behavior"), py::arg("max_readers"),
           py::arg("max_writers"), py::arg("spin_iterations"), py::arg("recovery_timeout"), py::arg("permissions"),
           py::arg("uid"), py::arg("gid"))
      .def("write", &Writer::write, py::arg("data"), py::arg("timeout") = none)
      .def("try_write", &Writer::try_write, py::arg("data"))
      .def("_claim", &Writer::claim, py::arg("length"), py::arg("timeout") = none)
      .def("commit", &Writer::commit)
      .def("abort", &Writer::abort)
      .def("close", &Writer::close)
      .def_property_readonly("closed", &Writer::closed)
      .def_property_readonly("name", &Writer::name)
      .def_property_readonly("capacity", &Writer::capacity)
      .def_property_readonly("max_message_size", &Writer::max_message_size)
      .def_property_readonly("_behavior", &Writer::behavior)
      .def_property_readonly("messages_written", &Writer::messages_written);

  py::class_<Reader>(m, "Reader", py::dynamic_attr())
      .def(py::init<const std::string&, int, std::uint32_t, std::optional<double>>(), py::arg("name"),
           py::arg("start"), py::arg("spin_iterations"), py::arg("recovery_timeout"))
      .def("read", &Reader::read, py::arg("timeout") = none)
      .def("try_read", [](Reader& r) { return r.read(0.0); })
      .def("read_into", &Reader::read_into, py::arg("buffer"), py::arg("timeout") = none)
      .def("_peek", &Reader::peek, py::arg("timeout") = none)
      .def("release", &Reader::release)
      .def("close", &Reader::close)
      .def_property_readonly("closed", &Reader::closed)
      .def_property_readonly("peeking", &Reader::peeking)
      .def_property_readonly("name", &Reader::name)
      .def_property_readonly("max_message_size", &Reader::max_message_size)
      .def_property_readonly("messages_read", &Reader::messages_read)
      .def_property_readonly("messages_lost", &Reader::messages_lost)
      .def_property_readonly("evictions", &Reader::evictions);

  py::class_<Blob>(m, "Blob", py::dynamic_attr())
      .def(py::init<const std::string&, int, std::size_t, bool, std::uint32_t, std::int64_t, std::int64_t>(),
           py::arg("name"), py::arg("mode"), py::arg("capacity"), py::arg("read_only"), py::arg("permissions"),
           py::arg("uid"), py::arg("gid"))
      .def("write", &Blob::write, py::arg("data"))
      .def("try_write", &Blob::try_write, py::arg("data"))
      .def("read", &Blob::read)
      .def("close", &Blob::close)
      .def_property_readonly("closed", &Blob::closed)
      .def_property_readonly("name", &Blob::name)
      .def_property_readonly("capacity", &Blob::capacity)
      .def_property_readonly("generation", &Blob::generation)
      .def_property_readonly("read_only", &Blob::read_only);

  m.def("ring_remove", [](const std::string& name) {
    const int rc = stella_ring_remove(name.c_str());
    if (rc == STELLA_NOT_FOUND) return false;
    check(rc, name.c_str());
    return true;
  });
  m.def("blob_remove", [](const std::string& name) {
    const int rc = stella_blob_remove(name.c_str());
    if (rc == STELLA_NOT_FOUND) return false;
    check(rc, name.c_str());
    return true;
  });
  m.def("status_name", [](int code) { return std::string(stella_status_name(code)); });
  m.def("version", [] { return std::string(stella_version()); });
  m.attr("SLICE_SECONDS") = static_cast<double>(kSliceNs) / 1e9;
}
