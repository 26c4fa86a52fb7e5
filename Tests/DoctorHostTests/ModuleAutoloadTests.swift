import DoctorCore
import DoctorHost
import Testing

/// Which requests a check withholds because the kernel would load a module to answer them.
@Suite struct ModuleAutoloadTests {
    func inventory(loadable: Bool?, _ states: [String: ModuleStatus.State]) -> ModuleInventory {
        ModuleInventory(loadableModules: loadable, modules: states.mapValues { ModuleStatus(state: $0, evidence: "test") })
    }

    @Test func onDiskAndNotLoadedIsWithheldNamingConntrackTooWhenItIsNotLoaded() throws {
        let why = try #require(ModuleAutoload.ctnetlinkWithheld(inventory(loadable: true, [
            "nf_conntrack_netlink": .available, "nf_conntrack": .available,
        ])))
        #expect(why.contains("would make the kernel load it and nf_conntrack"))
        let loadedCore = try #require(ModuleAutoload.ctnetlinkWithheld(inventory(loadable: true, [
            "nf_conntrack_netlink": .available, "nf_conntrack": .loaded,
        ])))
        #expect(!loadedCore.contains("and nf_conntrack;"))
    }

    @Test(arguments: [
        (true, ModuleStatus.State.loaded), (true, .builtIn), (true, .missing), (true, .unknown),
        (false, .builtIn), (nil, .available),
    ] as [(Bool?, ModuleStatus.State)])
    func askingIsFreeOtherwise(loadable: Bool?, state: ModuleStatus.State) {
        #expect(ModuleAutoload.ctnetlinkWithheld(inventory(loadable: loadable, ["nf_conntrack_netlink": state])) == nil)
    }
}
