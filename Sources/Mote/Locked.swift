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
/// `@unchecked Sendable` is safe: `state` is only read or written inside `withLock`, while
/// the mutex is held, and the mutex lives at a stable heap address for the object's lifetime.
final class Locked<State>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var state: State

    init(_ state: State) {
        self.state = state
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}
