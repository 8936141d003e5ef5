/// v5 PUBLISH properties as Swift values. All are optional; v3.1.1 ignores them.
public struct MQTTPublishProperties: Sendable, Hashable {
    /// 1: the payload is UTF-8 text; 0: unspecified bytes.
    public var payloadFormatIndicator: UInt8?
    /// Seconds the broker keeps the message for subscribers that are offline.
    public var messageExpiryInterval: UInt32?
    public var contentType: String?
    /// Topic for a response (request/response pattern).
    public var responseTopic: String?
    /// Correlation data echoed in the response.
    public var correlationData: [UInt8]?
    public var userProperties: [MQTTUserProperty]
    /// Incoming only: the subscription identifiers of the subscriptions that matched.
    public var subscriptionIdentifiers: [UInt32]

    public init(payloadFormatIndicator: UInt8? = nil, messageExpiryInterval: UInt32? = nil,
                contentType: String? = nil, responseTopic: String? = nil,
                correlationData: [UInt8]? = nil, userProperties: [MQTTUserProperty] = []) {
        self.payloadFormatIndicator = payloadFormatIndicator
        self.messageExpiryInterval = messageExpiryInterval
        self.contentType = contentType
        self.responseTopic = responseTopic
        self.correlationData = correlationData
        self.userProperties = userProperties
        self.subscriptionIdentifiers = []
    }

    var isEmpty: Bool {
        payloadFormatIndicator == nil && messageExpiryInterval == nil && contentType == nil
            && responseTopic == nil && correlationData == nil && userProperties.isEmpty
    }
}

/// A message to publish in a batch (``MQTTClient/publish(_:qos:)``).
public struct MQTTOutgoingMessage: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
    public var retain: Bool
    /// v5 only (v3.1.1 ignores them).
    public var properties: MQTTPublishProperties?

    public init(topic: String, payload: [UInt8], retain: Bool = false, properties: MQTTPublishProperties? = nil) {
        self.topic = topic
        self.payload = payload
        self.retain = retain
        self.properties = properties
    }
}

/// A message received on a subscription.
public struct MQTTMessage: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: MQTTQoS
    /// Set on retained messages delivered when subscribing.
    public var retain: Bool
    /// The DUP flag: the broker may have sent this QoS 1 message before.
    public var isDuplicate: Bool
    public var properties: MQTTPublishProperties

    public init(topic: String, payload: [UInt8], qos: MQTTQoS = .atMostOnce, retain: Bool = false,
                isDuplicate: Bool = false, properties: MQTTPublishProperties = .init()) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.isDuplicate = isDuplicate
        self.properties = properties
    }

    /// The payload as UTF-8 text (invalid sequences replaced).
    public var payloadString: String { String(decoding: payload, as: UTF8.self) }
}

/// What the broker said in CONNACK.
public struct MQTTSessionInfo: Sendable, Hashable {
    /// The broker resumed a stored session (subscriptions and unacknowledged messages kept).
    public var sessionPresent: Bool
    /// Client identifier the broker assigned (v5, when connecting with an empty one). nil when
    /// the client connected again under the identifier assigned before (see
    /// ``MQTTConfiguration/clientID``).
    public var assignedClientID: String?
    /// Keep-alive in force (the server's if it set one).
    public var keepAliveSeconds: UInt16
    /// The broker's receive maximum (65,535 if not given).
    public var receiveMaximum: UInt16
    public var maximumQoS: MQTTQoS
    public var retainAvailable: Bool
}

/// Connection state changes, observed through ``MQTTClient/events``.
public enum MQTTConnectionEvent: Sendable, Hashable {
    /// Connected (first time or after a reconnect).
    case connected(MQTTSessionInfo)
    /// The connection was lost; the client will reconnect if its policy allows.
    case disconnected(MQTTError)
    /// A reconnect attempt (0-based) will start after `delay`.
    case reconnecting(attempt: Int, delay: Duration)
    /// The client stopped (``MQTTClient/disconnect()``, or reconnecting gave up/was off).
    case closed
}
