import Testing

@testable import XDSCProxy

/// Which upgrades go through (`createUpgradeFilterChain`, http_connection_manager config.cc).
@Suite struct UpgradeRuleTests {
    @Test func aRouteEntryOrTheConnectionManagerAllows() {
        #expect(RequestTranslation.upgradeAllowed("WebSocket", route: ["websocket"], manager: []))
        #expect(RequestTranslation.upgradeAllowed("websocket", route: [], manager: ["WebSocket"]))
        #expect(!RequestTranslation.upgradeAllowed("h2c", route: ["websocket"], manager: ["websocket"]))
    }

    @Test func aRouteEntryWithEnabledFalseRefusesWhatTheManagerAllows() {
        #expect(!RequestTranslation.upgradeAllowed("websocket", route: [], refusedByRoute: ["WebSocket"], manager: ["websocket"]))
        #expect(RequestTranslation.upgradeAllowed("spdy/3.1", route: [], refusedByRoute: ["websocket"], manager: ["spdy/3.1"]))
    }
}
