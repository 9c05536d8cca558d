/// The version of the testbed library, written into every model file.
public enum TestbedVersion {
    public static let current = "0.1.0"
}
