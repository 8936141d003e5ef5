import Foundation
import Mote
import Testing

/// Cancelling a task that waits for a publish's outcome ends the wait, and a message that
/// was not sent yet is withdrawn rather than sent later.
@Suite struct CancellationTests {
    /// A publisher whose reconnect comes 1.5 s after the broker is back: long enough for a
    /// fresh subscriber to be in place before the queued messages go out.
    static func slowReconnecting(_ broker: Broker, _ name: String) -> MQTTConfiguration {
        var cfg = T.config(broker, name)
        cfg.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(1500), maximumDelay: .milliseconds(1500), jitter: 0)
        cfg.offlinePublishing = .queue(limit: 100)
        return cfg
    }

    @Test func cancelledOfflinePublishIsWithdrawn() async throws {
        let broker = try Broker()
        try await T.within(60) {
            let publisher = MQTTClient(configuration: Self.slowReconnecting(broker, "cancel-pub"))
            try await publisher.connect()
            #expect(publisher.isConnected) // true as soon as connect() returns
            broker.kill()
            #expect(await T.eventually { !publisher.isConnected })

            // Queued while offline; its task is cancelled before the broker comes back.
            let withdrawn = Task { try await publisher.publish(to: "cancel/x", string: "withdrawn", qos: .atLeastOnce) }
            try await Task.sleep(for: .milliseconds(100))
            withdrawn.cancel()
            await #expect(throws: CancellationError.self) { try await withdrawn.value }
            // A task cancelled before it publishes does not wait either.
            let early = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                try await publisher.publish(to: "cancel/x", string: "early", qos: .atLeastOnce)
            }
            await #expect(throws: CancellationError.self) { try await early.value }
            let kept = Task { try await publisher.publish(to: "cancel/x", string: "kept", qos: .atLeastOnce) }

            try broker.start()
            let subscriber = MQTTClient(configuration: T.config(broker, "cancel-sub"))
            try await subscriber.connect()
            let sub = try await subscriber.subscribe(to: "cancel/#", qos: .atLeastOnce)
            try await kept.value
            var it = sub.makeAsyncIterator()
            // Sent in queue order: "withdrawn" and "early" would have arrived first.
            let first = try #require(try await it.next())
            #expect(first.payloadString == "kept")
            try await publisher.disconnect()
            try await subscriber.disconnect()
        }
    }

    @Test func cancelledBatchAnswersEveryMessage() async throws {
        let broker = try Broker()
        try await T.within(60) {
            let publisher = MQTTClient(configuration: Self.slowReconnecting(broker, "cancel-batch"))
            try await publisher.connect()
            broker.kill()
            #expect(await T.eventually { !publisher.isConnected })
            let batch = (0..<3).map { MQTTOutgoingMessage(topic: "cancel/b", payload: Array("m\($0)".utf8)) }
            let waiting = Task { await publisher.publish(batch, qos: .atLeastOnce) }
            try await Task.sleep(for: .milliseconds(100))
            waiting.cancel()
            let results = await waiting.value
            #expect(results.count == 3)
            for r in results {
                guard case .failure(let e) = r else {
                    Issue.record("expected a failure, got \(r)")
                    continue
                }
                #expect(e == .cancelled)
            }
            try await publisher.disconnect()
        }
    }

    /// failFast: messages accepted while connected but still unsent when the connection
    /// drops fail with notConnected instead of waiting for a reconnect (30 s away here).
    @Test func failFastFailsWhatTheLostConnectionLeftUnsent() async throws {
        let broker = try Broker()
        try await T.within(60) {
            var cfg = T.config(broker, "ff-unsent")
            cfg.offlinePublishing = .failFast
            cfg.reconnect = MQTTReconnectPolicy(initialDelay: .seconds(30), maximumDelay: .seconds(30), jitter: 0)
            cfg.maximumInflight = 1 // one in flight; the others wait unsent
            let publisher = MQTTClient(configuration: cfg)
            try await publisher.connect()
            broker.pause() // connected, but nothing is acknowledged any more
            let notConnected = Counter(), other = Counter()
            let publishing = Task {
                await withTaskGroup(of: Void.self) { group in
                    for i in 0..<5 {
                        group.addTask {
                            do {
                                try await publisher.publish(to: "ff/\(i)", string: "x", qos: .atLeastOnce)
                                other.add()
                            } catch MQTTError.notConnected {
                                notConnected.add()
                            } catch {
                                other.add()
                            }
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(notConnected.value == 0 && other.value == 0)
            broker.kill()
            #expect(await T.eventually { notConnected.value == 4 })
            #expect(other.value == 0) // the one in flight still waits for the session
            try await publisher.disconnect()
            await publishing.value
            #expect(notConnected.value == 4 && other.value == 1)
        }
    }
}
