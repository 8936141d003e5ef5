/// The messages of one subscription, as an `AsyncSequence`.
///
/// Iterate it once. Ending the loop (break, return, throw), cancelling the iterating task or
/// calling ``cancel()`` ends the subscription and unsubscribes at the broker. Messages are
/// buffered as the subscription's ``MQTTBufferingPolicy`` says.
public struct MQTTSubscription: AsyncSequence, Sendable {
    public typealias Element = MQTTMessage
    public typealias Failure = any Error

    /// The topic filter.
    public let filter: String
    let stream: AsyncThrowingStream<MQTTMessage, any Error>
    let token: SubscriptionToken

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), lifetime: IterationLifetime(token: token))
    }

    /// End this subscription now (unsubscribes when no other subscription shares the filter).
    public func cancel() {
        token.cancel()
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<MQTTMessage, any Error>.AsyncIterator
        let lifetime: IterationLifetime

        public mutating func next() async throws -> MQTTMessage? {
            try await base.next()
        }
    }
}

/// Ends the subscription when the last holder (the subscription value) goes away.
final class SubscriptionToken: Sendable {
    private weak let engine: Engine?
    let subscriberID: Int

    init(engine: Engine, subscriberID: Int) {
        self.engine = engine
        self.subscriberID = subscriberID
    }

    func cancel() {
        engine?.send(.unsubscribe(subscriberID: subscriberID))
    }

    deinit { cancel() }
}

/// Ends the subscription when its iterator goes away, i.e. when the `for` loop ends.
final class IterationLifetime: Sendable {
    let token: SubscriptionToken
    init(token: SubscriptionToken) { self.token = token }
    deinit { token.cancel() }
}
