/// Bad input from the user: a flag value, a file that cannot be read or is not what it should be.
/// The message is one line that names the flag or file; the exit status is 2.
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
