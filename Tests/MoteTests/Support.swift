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

    /// Run `body` and fail with `TimeoutError` after `seconds`.
    static func within<R: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> R) async throws -> R {
        try await withThrowingTaskGroup(of: R.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                throw TimeoutError(seconds: seconds)
            }
            let r = try await group.next()!
            group.cancelAll()
            return r
        }
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

struct TimeoutError: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "timed out after \(seconds) s" }
}
