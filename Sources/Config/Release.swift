/// The version `openidd --version` and `openidctl --version` print, and the daemon reports in
/// `/v1/health` and `openidd_build_info`.
public enum Release {
    public static let version = "0.2.0"
}
