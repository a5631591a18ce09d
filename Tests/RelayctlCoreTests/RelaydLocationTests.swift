import RelayctlCore
import Testing

@Suite("Finding relayd")
struct RelaydLocationTests {
    @Test func theSocketIsTheFlagThenTheVariableThenTheConfiguration() {
        let environment = ["RELAY_CONTROL_SOCKET": "/env.sock"]
        #expect(ControlSocketLocation.resolve(flag: "/flag.sock", environment: environment) { "/config.sock" } == "/flag.sock")
        #expect(ControlSocketLocation.resolve(flag: nil, environment: environment) { "/config.sock" } == "/env.sock")
        #expect(ControlSocketLocation.resolve(flag: nil, environment: ["RELAY_CONTROL_SOCKET": ""]) { "/config.sock" } == "/config.sock")
    }

    @Test func theConfigurationIsTheFlagThenTheVariable() {
        #expect(ConfigFileLocation.resolve(flag: "/a.yaml", environment: ["RELAY_CONFIG": "/b.yaml"]) == "/a.yaml")
        #expect(ConfigFileLocation.resolve(flag: nil, environment: ["RELAY_CONFIG": "/b.yaml"]) == "/b.yaml")
        #expect(ConfigFileLocation.resolve(flag: nil, environment: ["RELAY_CONFIG": ""]) == nil)
        #expect(ConfigFileLocation.resolve(flag: nil, environment: [:]) == nil)
    }
}
