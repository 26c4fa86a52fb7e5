import ArgumentParser

public struct CTDoctor: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "ctdoctor")
    public init() {}
}

public enum CTDoctorCLI {
    public static func main() { CTDoctor.main() }
}
