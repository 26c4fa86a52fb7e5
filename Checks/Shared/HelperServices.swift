import DoctorCore

/// The kernel's helpers as this host has them, and what in the ruleset asks for them.
enum HelperServices {
    typealias Service = ConntrackHelperModule.Service

    /// Helper modules loaded or built in, with their status.
    static func present(_ snapshot: HostSnapshot) -> [(module: ConntrackHelperModule, status: ModuleStatus)] {
        ConntrackHelperModule.known.compactMap { module in
            let status = snapshot.modules.status(module.module)
            return status.isPresent ? (module, status) : nil
        }
    }

    /// Helper names compare without case: the kernel's lookup ignores it (`nf_conntrack_helper_try_module_get`).
    static func same(_ a: String, _ b: String) -> Bool { a.lowercased() == b.lowercased() }

    static func isAssigned(_ name: String, _ ruleset: Ruleset) -> Bool {
        ruleset.helperAssignments.contains { same($0.helper, name) }
    }

    /// What suggests the host needs this service's helper: a rule matching on the helper, a rule letting the
    /// service's port in or forwarding it, or the helper module loaded (it is loadable, so something asked for it).
    static func signals(_ service: Service, _ status: ModuleStatus, module: String, _ ruleset: Ruleset) -> [String] {
        var signals = ruleset.helperMatches.filter { same($0.helper, service.name) }
            .map { "\($0.rule.place) matches on the \(service.name) helper" }
        if let port = service.port {
            signals += ruleset.helperPortRules
                .filter { $0.match.namesDestinationPort(port, l4proto: service.l4proto) }
                .map { "\($0.place) lets \(service.l4proto) port \(port) in or forwards it" }
        }
        if status.state == .loaded { signals.append("\(module) is loaded") }
        return signals
    }

    /// "ctd-ftp-tcp": the name of the `ct helper` object ctdoctor proposes for a service.
    static func objectName(_ service: Service) -> String { "ctd-\(service.name)-\(service.l4proto)" }
}
