import DoctorCore

extension RemediationStep {
    /// `sysctl -w KEY=VALUE` for a named key.
    static func sysctl(
        _ key: SysctlKey, _ value: String, previous: String?, purpose: String,
        scope: Scope = .runtime, risk: Risk = .safe
    ) -> RemediationStep {
        .sysctl(key.name, value, previous: previous, purpose: purpose, scope: scope, risk: risk)
    }
}
