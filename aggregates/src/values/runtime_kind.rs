//! Where a bot or job runs.

super::string_enum! {
    /// The runtime implementation that hosts a bot.
    pub enum RuntimeKind (field = "runtime", what = "runtime") {
        Docker => "docker",
        Kubernetes => "kubernetes",
        Local => "local",
    }
}
