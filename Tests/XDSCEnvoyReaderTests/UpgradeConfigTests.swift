import Testing
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCJSON
import XDSCTestSupport

/// A route's `upgrade_configs`: enabled entries and `enabled: false` entries are both kept
/// (the second refuses what the connection manager allows), and written back as read.
@Suite struct UpgradeConfigTests {
    static let text = table(
        route: #"""
            {"match": {"prefix": "/"}, "route": {"cluster": "c", "upgrade_configs": [
              {"upgrade_type": "websocket", "enabled": false}, {"upgrade_type": "CONNECT-UDP"}]}}
            """#)

    @Test func enabledAndRefusedTypesAreKept() throws {
        let rc = try readRouteTable(Self.text)
        guard case .route(let a) = rc.virtualHosts[0].routes[0].action else {
            Issue.record("not a route action")
            return
        }
        #expect(a.upgradeTypes == ["CONNECT-UDP"])
        #expect(a.disabledUpgradeTypes == ["websocket"])
    }

    @Test func refusedTypesAreWrittenWithEnabledFalse() throws {
        let rc = try readRouteTable(Self.text)
        guard case .route(let a) = rc.virtualHosts[0].routes[0].action else {
            Issue.record("not a route action")
            return
        }
        let json = a.json.compactText()
        #expect(json.contains(#"{"upgrade_type":"websocket","enabled":false}"#))
        #expect(json.contains(#"{"upgrade_type":"CONNECT-UDP"}"#))
    }
}
