/// Documents several checks cite, in one place.
enum References {
    static let conntrackSysctls = "https://docs.kernel.org/networking/nf_conntrack-sysctl.html"
    static let netfilterSysctls = "https://docs.kernel.org/networking/netfilter-sysctl.html"
    static let ulogd = "https://www.netfilter.org/projects/ulogd/"
    static let kubeProxyConnectionReset = "https://kubernetes.io/blog/2019/03/29/kube-proxy-subtleties-debugging-an-intermittent-connection-reset/"
    static let conntrackToolsManual = "https://conntrack-tools.netfilter.org/manual.html"
    static let secureHelpers = "https://home.regit.org/netfilter-en/secure-use-of-helpers/"
}
