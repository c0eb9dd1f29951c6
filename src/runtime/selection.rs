//! Which runtime runs a bot: the bot's own choice, else the service's default, which
//! is configured (`ANYTRADE_RUNTIME`) or detected.

use std::path::Path;
use std::sync::Arc;

use anytrade_aggregates::values::RuntimeKind;

use super::{Runtime, RuntimeError, RuntimeMap};
use crate::config::RuntimeChoice;

/// The runtimes at hand and the default among them.
#[derive(Clone)]
pub struct Runtimes {
    default: RuntimeKind,
    available: RuntimeMap,
}

impl Runtimes {
    /// `choice` `Auto` detects the default among `available`: in a Kubernetes cluster,
    /// kubernetes; with Docker reachable at `docker_socket`, docker; else local.
    pub fn new(choice: RuntimeChoice, available: RuntimeMap, docker_socket: &str) -> Self {
        let default = match choice {
            RuntimeChoice::Docker => RuntimeKind::Docker,
            RuntimeChoice::Kubernetes => RuntimeKind::Kubernetes,
            RuntimeChoice::Local => RuntimeKind::Local,
            RuntimeChoice::Auto => detect(docker_socket, |kind| available.contains_key(&kind)),
        };
        Self { default, available }
    }

    pub fn default_kind(&self) -> RuntimeKind {
        self.default
    }

    /// The runtime for a bot that asks for `wanted` (`None`: the default).
    pub fn for_bot(&self, wanted: Option<RuntimeKind>) -> Result<Arc<dyn Runtime>, RuntimeError> {
        let kind = wanted.unwrap_or(self.default);
        self.available
            .get(&kind)
            .cloned()
            .ok_or_else(|| RuntimeError::Unavailable {
                kind,
                available: self.names(),
            })
    }

    /// Whether `kind` is at hand.
    pub fn has(&self, kind: RuntimeKind) -> bool {
        self.available.contains_key(&kind)
    }

    /// Every runtime at hand, for listing and reconciling.
    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn Runtime>> {
        self.available.values()
    }

    fn names(&self) -> String {
        let mut names: Vec<&str> = self.available.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    }
}

/// The first usable runtime in order of preference: kubernetes inside a cluster,
/// docker when its socket answers, local otherwise.
pub fn detect(docker_socket: &str, usable: impl Fn(RuntimeKind) -> bool) -> RuntimeKind {
    if in_cluster() && usable(RuntimeKind::Kubernetes) {
        return RuntimeKind::Kubernetes;
    }
    if docker_reachable(docker_socket) && usable(RuntimeKind::Docker) {
        return RuntimeKind::Docker;
    }
    RuntimeKind::Local
}

/// Where a pod's service account is mounted.
const SERVICE_ACCOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Whether this process runs in a Kubernetes pod with a service account.
pub fn in_cluster() -> bool {
    std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        && Path::new(SERVICE_ACCOUNT).join("token").exists()
}

/// The namespace of the pod this process runs in, as its service account names it.
pub fn own_namespace() -> Option<String> {
    let namespace = std::fs::read_to_string(Path::new(SERVICE_ACCOUNT).join("namespace")).ok()?;
    Some(namespace.trim().to_owned())
}

fn docker_reachable(socket: &str) -> bool {
    let path = socket.strip_prefix("unix://").unwrap_or(socket);
    std::os::unix::net::UnixStream::connect(path).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_skips_runtimes_this_build_cannot_use() {
        let kind = detect("unix:///nonexistent/docker.sock", |_| true);
        assert_eq!(kind, RuntimeKind::Local);
        // Docker reachable (or not) makes no difference when docker is not usable.
        let kind = detect("unix:///var/run/docker.sock", |k| k == RuntimeKind::Local);
        assert_eq!(kind, RuntimeKind::Local);
    }

    #[test]
    fn a_bot_asking_for_a_missing_runtime_gets_a_reason() {
        let runtimes = Runtimes::new(RuntimeChoice::Local, RuntimeMap::new(), "");
        let Err(error) = runtimes.for_bot(Some(RuntimeKind::Docker)) else {
            panic!("docker is not available");
        };
        assert_eq!(
            error.to_string(),
            "runtime docker is not available on this control plane (available: none)"
        );
    }
}
