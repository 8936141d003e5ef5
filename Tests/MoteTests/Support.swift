import Foundation
import Mote

/// Test helpers: unique client ids, time-limited waits.
enum T {
    static func id(_ name: String) -> String { "\(name)-\(UInt32.random(in: 0...UInt32.max))" }

    static func config(_ broker: Broker, _ name: String, _ version: MQTTProtocolVersion = .v5) -> MQTTConfiguration {
        var c = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: id(name), protocolVersion: version)
        c.keepAlive = .seconds(30)
        return c
    }

    /// Run `body` and fail with `TimeoutError` after `seconds`. The body is cancelled then,
    /// but not waited for: a body stuck in something cancellation cannot end still lets the
    /// test fail instead of hanging the run.
    static func within<R: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> R) async throws -> R {
        let gate = Gate<R>()
        let work = Task {
            do { gate.finish(.success(try await body())) } catch { gate.finish(.failure(error)) }
        }
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            if gate.finish(.failure(TimeoutError(seconds: seconds))) { work.cancel() }
        }
        defer { timer.cancel() }
        return try await gate.value
    }

    /// Poll `condition` until true or `seconds` pass.
    static func eventually(_ seconds: Double = 10, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await condition()
    }
}

/// The first of several outcomes, awaited once.
/// `@unchecked Sendable` is safe: `result` and `waiter` are only touched with `lock` held
/// (an NSLock, a pthread mutex the thread sanitizer understands).
final class Gate<R: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<R, any Error>?
    private var waiter: CheckedContinuation<R, any Error>?

    /// Record `result` unless one was recorded; true when this one won.
    @discardableResult
    func finish(_ result: Result<R, any Error>) -> Bool {
        lock.lock()
        guard self.result == nil else {
            lock.unlock()
            return false
        }
        self.result = result
        let w = waiter
        waiter = nil
        lock.unlock()
        w?.resume(with: result)
        return true
    }

    var value: R {
        get async throws {
            try await withCheckedThrowingContinuation { c in
                lock.lock()
                let ready = result
                if ready == nil { waiter = c }
                lock.unlock()
                if let ready { c.resume(with: ready) }
            }
        }
    }
}

struct TimeoutError: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "timed out after \(seconds) s" }
}
