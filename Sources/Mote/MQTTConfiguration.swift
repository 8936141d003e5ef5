import Foundation

/// The MQTT protocol level spoken on the wire.
public enum MQTTProtocolVersion: Sendable, Hashable {
    /// MQTT 3.1.1 (protocol level 4).
    case v311
    /// MQTT 5.0 (protocol level 5): properties, reason codes, subscription identifiers.
    case v5
}

/// Quality of service of a message or subscription.
public enum MQTTQoS: UInt8, Sendable, Hashable, Comparable {
    /// At most once: no acknowledgement.
    case atMostOnce = 0
    /// At least once: acknowledged with PUBACK; may be delivered more than once.
    case atLeastOnce = 1
    /// Exactly once: the four-packet handshake.
    case exactlyOnce = 2

    public static func < (lhs: MQTTQoS, rhs: MQTTQoS) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// How a subscription buffers messages its consumer has not taken yet.
///
/// The buffer is always bounded, so a slow consumer cannot grow memory without limit. When it
/// is full, either the oldest buffered message or the newly arrived one is dropped (and the
/// drop is logged at warning level). Messages are never held back on the connection: other
/// subscriptions and acknowledgements keep flowing.
public enum MQTTBufferingPolicy: Sendable, Hashable {
    /// Keep the newest `limit` messages; drop the oldest when full.
    case dropOldest(limit: Int)
    /// Keep the first `limit` messages; drop new arrivals when full.
    case dropNewest(limit: Int)

    /// 4,096 messages, dropping the oldest.
    public static let `default` = MQTTBufferingPolicy.dropOldest(limit: 4096)
}

/// Automatic reconnection after the connection is lost.
///
/// The delay before attempt *n* (from 0) is `min(maximumDelay, initialDelay × multiplier^n)`,
/// randomised by ± `jitter` (a fraction, 0...1) so that many clients do not reconnect in step.
public struct MQTTReconnectPolicy: Sendable, Hashable {
    public var isEnabled: Bool
    public var initialDelay: Duration
    public var maximumDelay: Duration
    public var multiplier: Double
    public var jitter: Double
    /// Give up after this many failed attempts in a row (nil: never).
    public var maximumAttempts: Int?

    public init(isEnabled: Bool = true, initialDelay: Duration = .milliseconds(250),
                maximumDelay: Duration = .seconds(30), multiplier: Double = 2, jitter: Double = 0.25,
                maximumAttempts: Int? = nil) {
        self.isEnabled = isEnabled
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = multiplier
        self.jitter = jitter
        self.maximumAttempts = maximumAttempts
    }

    /// Reconnection on, 250 ms doubling up to 30 s, ±25 % jitter.
    public static let `default` = MQTTReconnectPolicy()
    /// No reconnection: a lost connection ends the client's session.
    public static let disabled = MQTTReconnectPolicy(isEnabled: false)

    /// The delay before attempt `attempt` (0-based), with jitter applied.
    public func delay(forAttempt attempt: Int) -> Duration {
        let initial = Self.seconds(initialDelay)
        let cap = Self.seconds(maximumDelay)
        let base = min(cap, initial * pow(max(multiplier, 1), Double(min(attempt, 64))))
        let j = min(max(jitter, 0), 1)
        let factor = j > 0 ? Double.random(in: (1 - j)...(1 + j)) : 1
        return .milliseconds(Int64((base * factor * 1000).rounded()))
    }

    static func seconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

/// What `publish` does while the client is not connected (reconnecting).
public enum MQTTOfflinePublishing: Sendable, Hashable {
    /// Queue up to `limit` messages and send them after the reconnect; beyond that, publish
    /// throws ``MQTTError/queueFull``.
    case queue(limit: Int)
    /// Throw ``MQTTError/notConnected`` at once; messages accepted while connected but not
    /// yet sent when the connection drops fail with it too.
    case failFast
}

/// A v5 user property (a key/value pair; keys may repeat).
public struct MQTTUserProperty: Sendable, Hashable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// The message the broker publishes for this client when it disconnects without DISCONNECT.
public struct MQTTWill: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: MQTTQoS
    public var retain: Bool
    /// v5 will properties (content type, response topic, correlation data, expiry, user properties).
    public var properties: MQTTPublishProperties
    /// v5 will delay interval in seconds.
    public var delayInterval: UInt32?

    public init(topic: String, payload: [UInt8], qos: MQTTQoS = .atMostOnce, retain: Bool = false,
                properties: MQTTPublishProperties = .init(), delayInterval: UInt32? = nil) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
        self.delayInterval = delayInterval
    }
}

/// Everything needed to connect a ``MQTTClient``.
public struct MQTTConfiguration: Sendable {
    /// TLS settings, with the same options as the C mbedTLS transport.
    public struct TLS: Sendable, Hashable {
        /// Where a certificate or key comes from.
        public enum Source: Sendable, Hashable {
            /// A PEM or DER file.
            case file(String)
            /// PEM text or DER bytes in memory.
            case data([UInt8])
        }
        /// Trusted CA certificates (nil and `useSystemTrustStore` false: an error unless `insecure`).
        public var trustRoots: Source?
        /// A directory of PEM CA certificates.
        public var caPath: String?
        /// Also trust the operating system's CA bundle.
        public var useSystemTrustStore: Bool = false
        /// Client certificate for mutual TLS.
        public var certificate: Source?
        /// Private key for the client certificate.
        public var privateKey: Source?
        /// Password for an encrypted private key.
        public var privateKeyPassword: String?
        /// Name sent in SNI and checked against the server certificate (nil: the host).
        public var serverName: String?
        /// ALPN protocols offered, e.g. `["x-amzn-mqtt-ca"]` for AWS IoT on port 443.
        public var alpn: [String] = []
        /// "tlsv1.2" or "tlsv1.3"; nil: 1.2 and up.
        public var version: String?
        /// Colon-separated cipher suites; nil: ECDHE with AEAD.
        public var ciphers: String?
        /// Skip server verification (tests only).
        public var insecure: Bool = false
        /// Offer the previous session for resumption on reconnect.
        public var sessionResumption: Bool = true

        /// Trust from a CA file; optional client certificate and key files (mutual TLS).
        public init(caFile: String? = nil, certificateFile: String? = nil, privateKeyFile: String? = nil) {
            self.trustRoots = caFile.map { .file($0) }
            self.certificate = certificateFile.map { .file($0) }
            self.privateKey = privateKeyFile.map { .file($0) }
        }

        /// Trust and identity from PEM text in memory.
        public init(caPEM: String?, certificatePEM: String? = nil, privateKeyPEM: String? = nil) {
            self.trustRoots = caPEM.map { .data(Array($0.utf8)) }
            self.certificate = certificatePEM.map { .data(Array($0.utf8)) }
            self.privateKey = privateKeyPEM.map { .data(Array($0.utf8)) }
        }
    }

    public var host: String
    public var port: Int
    /// The local address (or a host name of one) to connect from, to choose the network
    /// interface on a host with several (a gateway with Ethernet and cellular); nil: the
    /// system's choice. A connect fails when no address of the broker's family can be bound.
    public var localAddress: String?
    /// The client identifier, unique per broker.
    ///
    /// Empty asks a v5 broker to assign one (``MQTTSessionInfo/assignedClientID``). With a
    /// session that outlives the connection (``sessionExpiryInterval`` above 0, also as the
    /// broker set it in CONNACK), the client then connects again under the assigned identifier,
    /// after a lost connection and in a ``MQTTClient/connect()`` after
    /// ``MQTTClient/disconnect()``, for as long as the session may still exist: until the expiry
    /// interval, plus 1.5 keep-alive intervals (the time a broker may take to notice the
    /// connection is gone), has passed since the connection ended. After that, or when the
    /// session ends with the connection (expiry 0), it sends the empty identifier again and gets
    /// a new one (and a new session). With ``cleanStart`` the reconnect under the assigned
    /// identifier lets the broker discard the old session at once.
    ///
    /// MQTT 3.1.1 brokers assign none: an empty identifier is allowed only with ``cleanStart``
    /// true; with a persistent session ``MQTTClient/connect()`` throws
    /// ``MQTTError/invalidArgument(_:)`` before opening a connection.
    public var clientID: String
    public var protocolVersion: MQTTProtocolVersion
    /// Keep-alive interval (whole seconds are sent; zero turns keep-alive off).
    public var keepAlive: Duration = .seconds(60)
    /// Start a new session (true) or resume the stored one (false: a persistent session).
    public var cleanStart: Bool = true
    /// v5 session expiry interval in seconds (0: ends with the connection; `UInt32.max`: never).
    /// A persistent session in v5 needs a non-zero value.
    public var sessionExpiryInterval: UInt32 = 0
    public var username: String?
    public var password: [UInt8]?
    public var will: MQTTWill?
    /// TLS, or nil for plain TCP.
    public var tls: TLS?
    /// v5 user properties sent with CONNECT.
    public var connectUserProperties: [MQTTUserProperty] = []
    public var connectTimeout: Duration = .seconds(10)
    public var reconnect: MQTTReconnectPolicy = .default
    public var offlinePublishing: MQTTOfflinePublishing = .queue(limit: 1000)
    /// Outgoing QoS 1/2 messages awaiting acknowledgement at once (further ones wait in order;
    /// 1 to 65,530).
    public var maximumInflight: Int = 64
    /// How long a request sent to the broker may wait for its acknowledgement (PUBACK or
    /// PUBCOMP for a QoS 1/2 publish, also in a batch; SUBACK for a subscribe) before its
    /// caller gets ``MQTTError/timeout``. nil: wait indefinitely (only cancelling the task,
    /// ``MQTTClient/disconnect()`` or losing the connection for good ends the wait).
    ///
    /// The clock starts when the request is sent: not while a message waits behind a full
    /// in-flight window (``maximumInflight``) or offline for a reconnect, and a reconnect
    /// starts it again for the messages it resends. It is checked while connected, so a
    /// broker that answers PINGREQ but never acknowledges no longer keeps callers waiting.
    /// A timed-out publish is treated like a cancelled one: it stays in the session (it may
    /// still reach the broker, is resent after a reconnect, and holds its in-flight slot
    /// until acknowledged), and its late acknowledgement is ignored. A timed-out SUBSCRIBE
    /// fails the `subscribe` calls waiting for it, as a refusal would (their subscriptions
    /// end; a filter left without subscribers is unsubscribed); its late SUBACK answers
    /// nobody. A resubscribe after a reconnect that times out ends no subscription granted
    /// before (the next reconnect, or a new `subscribe` to the filter, asks again). A timed-out
    /// SUBSCRIBE keeps its place among the few the client can have unacknowledged at once until
    /// its SUBACK comes, and so does an UNSUBSCRIBE (sent when a filter's last subscription
    /// ends) until its UNSUBACK; a `subscribe` whose SUBSCRIBE cannot be sent because all those
    /// places are held by SUBSCRIBEs and UNSUBSCRIBEs unanswered for `ackTimeout` fails with
    /// ``MQTTError/timeout`` too. Nothing else waits for an UNSUBSCRIBE: one unanswered fails
    /// nobody, and its late UNSUBACK is taken as usual.
    public var ackTimeout: Duration? = .seconds(30)
    /// Receive buffer: larger incoming messages are still delivered (reassembled from chunks).
    public var receiveBufferSize: Int = 64 * 1024
    /// Send buffer: small packets are coalesced here before being written.
    public var sendBufferSize: Int = 64 * 1024
    /// v5 maximum packet size announced to the broker (0: not announced).
    public var maximumPacketSize: UInt32 = 0

    /// - Parameters:
    ///   - host: broker host name or address.
    ///   - port: 1883 for plain TCP, 8883 for TLS by convention.
    ///   - clientID: unique per broker; empty asks a v5 broker to assign one (see ``clientID``).
    ///   - protocolVersion: `.v5` or `.v311`.
    public init(host: String, port: Int = 1883, clientID: String, protocolVersion: MQTTProtocolVersion = .v5) {
        self.host = host
        self.port = port
        self.clientID = clientID
        self.protocolVersion = protocolVersion
    }
}
