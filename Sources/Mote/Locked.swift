#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// State behind a pthread mutex. Used instead of `Synchronization.Mutex` because on Linux
/// that one is built on raw futex calls which the thread sanitizer cannot see, so every
/// access it guards is reported as a race; pthread mutexes are understood by TSan.
///
/// The state lives behind a pointer rather than in a stored `var`: a class's stored property
/// passed `inout` costs a dynamic exclusivity check (a runtime call) on every access, and the
/// QoS 0 hand-off takes this lock once per message. The mutex already guarantees exclusive
/// access, so the check would only repeat it.
///
/// `@unchecked Sendable` is safe: `state` is only read or written inside `withLock`, while
/// the mutex is held, and the mutex and the state live at stable heap addresses for the
/// object's lifetime.
final class Locked<State>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let state: UnsafeMutablePointer<State>

    init(_ state: State) {
        self.state = .allocate(capacity: 1)
        self.state.initialize(to: state)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    @inline(__always)
    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state.pointee)
    }
}
