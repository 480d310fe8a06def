// ThreadSanitizer builds only: tests/CMakeLists.txt links this file into goethe-server, goethe-cli
// and the server test binaries when GOETHE_SANITIZER=thread. It gives TSan the happens-before
// edges that gRPC guarantees but that TSan cannot see in Debian's uninstrumented gRPC.
//
// gRPC hands work between threads through completion queues, its executor and the server's
// shutdown wait, all synchronised by absl::Mutex (futex-based) and atomics inside libgrpc and
// libgrpc++, which TSan does not see. Both ends of each hand-off are in gRPC's C++ headers,
// compiled (instrumented) into our code, so without the edge TSan reports thousands of races
// between, e.g., a CallOpSet filled by the thread that calls StartWrite() and read by the thread
// that runs OnWriteDone(), and between a reactor built in one thread and destroyed in another.
//
// Each function below is reached through the PLT (from libgrpc++ or from our instantiations of
// gRPC's templates), so its definition here, in the executable, takes precedence over the
// library's. Each adds exactly one ordering that gRPC or absl guarantees, and nothing else:
//  - absl::Mutex::Unlock releases the mutex, absl::Mutex::Lock acquires it, when called from this
//    program's (instrumented) code: what a pthread mutex gives TSan by itself. gRPC's headers guard
//    a reactor's state before it is bound to its call (a unary reactor's Finish() from our blocking
//    pool racing the handler's bind) with one. The mutexes libgrpc takes inside itself stay out of
//    view, as for any uninstrumented library: seeing them would order callbacks of unrelated calls
//    after one another (they pass the same locks in libgrpc, the completion queue's for one) and
//    hide races between them.
//  - grpc_call_start_batch(tag) releases `tag`; grpc_completion_queue_next/pluck returning `tag`
//    acquire it: what a thread did before starting a batch happens before that batch's completion
//    is handled (callback reactors' OnReadDone/OnWriteDone/..., synchronous client calls).
//  - ServerCallbackCall::ScheduleOnDone / CallOnCancel: where gRPC would post a reactor's OnDone or
//    OnCancel to its executor, it runs on a new thread instead, which TSan sees created by the
//    thread that released the call's last reference: the order gRPC guarantees, and no order
//    between different calls (one shared thread would serialise every OnDone and hide races
//    between them). The inline cases are unchanged. Both first acquire the reference count (or
//    cancellation count) that reached zero, in case it was decremented in libgrpc++.
//  - Server::UnrefWithPossibleNotify releases the server, Server::UnrefAndWaitLocked (in
//    Shutdown) acquires it: Shutdown() returns after every call's OnDone has finished.
// No race is suppressed: two accesses that gRPC does not order are still reported.
//
// __tsan_default_options adds ignore_noninstrumented_modules=1 to these programs only: the malloc,
// free, memcpy and sendmsg that libgrpc, libgpr and absl call on their own memory would otherwise
// each be checked against accesses whose order TSan cannot see. TSan still sees their pthread
// synchronisation and every access made by instrumented code; what it no longer sees are the
// accesses those intercepted calls make when an uninstrumented library (libstdc++.so among them)
// calls them, which are out of its view in any case when made by plain loads and stores.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>

#include <absl/base/options.h>
#include <absl/synchronization/mutex.h>
#include <grpc/grpc.h>
#include <grpcpp/server.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/version_info.h>

// ScheduleOnDone and CallOnCancel below restate gRPC 1.51's, and the mangled names name Debian's
// absl: check both again when either changes.
static_assert(GRPC_CPP_VERSION_MAJOR == 1 && GRPC_CPP_VERSION_MINOR == 51, "written against gRPC 1.51");
#define GOETHE_STRINGIFY2(x) #x
#define GOETHE_STRINGIFY(x) GOETHE_STRINGIFY2(x)
static_assert(std::string_view(GOETHE_STRINGIFY(ABSL_OPTION_INLINE_NAMESPACE_NAME)) == "debian3",
              "the mangled absl::Mutex names below assume absl's inline namespace debian3");

namespace {

// The library's definition of `symbol`, the one ours stands in front of. A member function is
// called through it with the object as its first argument (the Itanium C++ ABI).
template <typename Function>
Function Next(const char* symbol) {
  void* found = dlsym(RTLD_NEXT, symbol);
  if (found == nullptr) {
    std::fprintf(stderr, "tsan_grpc_handoffs: %s not found\n", symbol);
    std::abort();
  }
  return reinterpret_cast<Function>(found);
}

// The first and the last byte of this program's code (GNU ld).
extern "C" char __executable_start[];
extern "C" char etext[];

bool CalledFromThisProgram(const void* return_address) {
  const char* at = static_cast<const char*>(return_address);
  return at >= __executable_start && at < etext;
}

// Tags are the addresses of gRPC's or our objects; small integers, which a caller of the C API
// may pass instead, are not memory TSan can hold a clock for.
bool IsObject(const void* tag) { return reinterpret_cast<std::uintptr_t>(tag) >= 4096; }

}  // namespace

extern "C" {

// Read before TSAN_OPTIONS, which adds to it or overrides it.
const char* __tsan_default_options() { return "ignore_noninstrumented_modules=1"; }

grpc_call_error grpc_call_start_batch(grpc_call* call, const grpc_op* ops, size_t nops, void* tag, void* reserved) {
  using Function = grpc_call_error (*)(grpc_call*, const grpc_op*, size_t, void*, void*);
  static const Function next = Next<Function>("grpc_call_start_batch");
  if (IsObject(tag)) __tsan_release(tag);
  return next(call, ops, nops, tag, reserved);
}

grpc_event grpc_completion_queue_next(grpc_completion_queue* cq, gpr_timespec deadline, void* reserved) {
  using Function = grpc_event (*)(grpc_completion_queue*, gpr_timespec, void*);
  static const Function next = Next<Function>("grpc_completion_queue_next");
  const grpc_event event = next(cq, deadline, reserved);
  if (event.type == GRPC_OP_COMPLETE && IsObject(event.tag)) __tsan_acquire(event.tag);
  return event;
}

grpc_event grpc_completion_queue_pluck(grpc_completion_queue* cq, void* tag, gpr_timespec deadline, void* reserved) {
  using Function = grpc_event (*)(grpc_completion_queue*, void*, gpr_timespec, void*);
  static const Function next = Next<Function>("grpc_completion_queue_pluck");
  const grpc_event event = next(cq, tag, deadline, reserved);
  if (event.type == GRPC_OP_COMPLETE && IsObject(event.tag)) __tsan_acquire(event.tag);
  return event;
}

}  // extern "C"

namespace absl {

void Mutex::Lock() {
  using Function = void (*)(Mutex*);
  static const Function next = Next<Function>("_ZN4absl7debian35Mutex4LockEv");
  next(this);
  if (CalledFromThisProgram(__builtin_return_address(0))) __tsan_acquire(this);
}

void Mutex::Unlock() {
  using Function = void (*)(Mutex*);
  static const Function next = Next<Function>("_ZN4absl7debian35Mutex6UnlockEv");
  if (CalledFromThisProgram(__builtin_return_address(0))) __tsan_release(this);
  next(this);
}

}  // namespace absl

namespace grpc {

// gRPC 1.51's src/cpp/server/server_callback.cc, with a new thread in place of its executor.
namespace internal {

// gRPC calls these right after the read-modify-write (acq_rel) of callbacks_outstanding_ or
// on_cancel_conditions_remaining_ that reached zero, sometimes from its own copy of the inline
// MaybeDone()/MaybeCallOnCancel() in libgrpc++, where TSan does not see that it acquired the
// other decrements: acquire them here.
void ServerCallbackCall::ScheduleOnDone(bool inline_ondone) {
  __tsan_acquire(&callbacks_outstanding_);
  if (inline_ondone) {
    CallOnDone();
    return;
  }
  std::thread([this] { CallOnDone(); }).detach();
}

void ServerCallbackCall::CallOnCancel(ServerReactor* reactor) {
  __tsan_acquire(&on_cancel_conditions_remaining_);
  if (reactor->InternalInlineable()) {
    reactor->OnCancel();
    return;
  }
  Ref();  // as gRPC does: the call is not done before OnCancel has run
  std::thread([this, reactor] {
    reactor->OnCancel();
    MaybeDone();
  }).detach();
}

}  // namespace internal

void Server::UnrefWithPossibleNotify() {
  using Function = void (*)(Server*);
  static const Function next = Next<Function>("_ZN4grpc6Server23UnrefWithPossibleNotifyEv");
  __tsan_release(this);
  next(this);
}

void Server::UnrefAndWaitLocked() {
  using Function = void (*)(Server*);
  static const Function next = Next<Function>("_ZN4grpc6Server18UnrefAndWaitLockedEv");
  next(this);
  __tsan_acquire(this);
}

}  // namespace grpc
