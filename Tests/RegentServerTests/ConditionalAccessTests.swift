import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RegentCore
import RegentEngine
import RegentStore
import Testing

@testable import RegentServer

struct ConditionalAccessTests {
    let proxies = [try! NetworkRange(parsing: "127.0.0.0/8"), try! NetworkRange(parsing: "192.168.0.0/16")]

    /// X-Forwarded-For counts only when the peer is a trusted proxy, and then only up to the first
    /// untrusted hop (read right to left): a client cannot prepend an allowed address.
    @Test func clientAddress() {
        let peer = IPAddress("127.0.0.1")
        #expect(
            AuthenticationMiddleware.clientAddress(
                peer: IPAddress("203.0.113.9"), forwardedFor: ["10.1.1.1"], trusted: proxies)
                == IPAddress("203.0.113.9"))
        #expect(
            AuthenticationMiddleware.clientAddress(peer: peer, forwardedFor: ["10.1.1.1"], trusted: proxies)
                == IPAddress("10.1.1.1"))
        #expect(
            AuthenticationMiddleware.clientAddress(
                peer: peer, forwardedFor: ["10.0.0.1, 198.51.100.7, 192.168.1.1"], trusted: proxies)
                == IPAddress("198.51.100.7"))
        #expect(AuthenticationMiddleware.clientAddress(peer: peer, forwardedFor: ["garbage"], trusted: proxies) == peer)
        #expect(AuthenticationMiddleware.clientAddress(peer: peer, forwardedFor: [], trusted: []) == peer)
    }
}
