//! Plays the kubelet (and the scheduler) for the test API server, which has neither:
//! pods of one namespace are bound to a fake Node, and each pod's container runs on this
//! machine's Docker engine as a kubelet would run it: the same image, command,
//! environment, user, confinement and limits, its ConfigMap, Secret and volume
//! contents mounted as files at their mount paths. Its status is written back (phase,
//! readiness from its readiness probe, container states, exit codes, and the end of its
//! log as the termination message), so the Deployment, ReplicaSet and Job controllers
//! carry on as in a cluster.
//!
//! As under a kubelet, the container's own process is process 1 (no init): one that
//! sets no handler for SIGTERM ignores it.
//!
//! What a Service would do is done with Docker too: a pod a Service selects gets the
//! Service's ports published on the Service's cluster IP, which the test API server
//! hands out from a loopback range (`scripts/lib/kube.sh`), so the control plane
//! reaches a bot by its cluster IP as it would from a node.
//!
//! A fake in the one place a real component cannot run here: there is no kubelet.
//! Pod logs are not served (the API server asks a kubelet for them).

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Container, Node, Pod, Secret, Service, Volume};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};
use tokio::process::Command;
use tokio::sync::watch;

/// The label on every container the fake kubelet runs, with its node's name.
const LABEL: &str = "anytrade-test-kubelet";
/// How long a crashed container of a pod that restarts waits to run again.
const CRASH_BACKOFF: Duration = Duration::from_secs(10);

pub struct Kubelet {
    pub node: String,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Kubelet {
    /// Starts playing the kubelet for the pods of `namespace`.
    pub async fn start(client: Client, namespace: &str) -> Self {
        let node = format!("fake-node-{namespace}");
        register_node(&client, &node).await;
        let dir = tempfile::tempdir().expect("kubelet dir");
        // Containers run as other users and must traverse it.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("kubelet dir mode");
        let (stop, stopped) = watch::channel(false);
        let mut node_loop = NodeLoop {
            pods: Api::namespaced(client.clone(), namespace),
            config_maps: Api::namespaced(client.clone(), namespace),
            secrets: Api::namespaced(client.clone(), namespace),
            services: Api::namespaced(client.clone(), namespace),
            node: node.clone(),
            dir: dir.path().to_owned(),
            running: HashMap::new(),
        };
        let task = tokio::spawn(async move {
            let mut stopped = stopped;
            loop {
                if let Err(e) = node_loop.pass().await {
                    eprintln!("fake kubelet: {e}");
                }
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = tokio::time::sleep(Duration::from_millis(300)) => {}
                }
            }
        });
        Self {
            node,
            stop,
            task: Some(task),
            _dir: dir,
        }
    }

    /// The last `lines` of the log of each container it runs now, for a failing
    /// test's message.
    pub fn logs(&self, lines: usize) -> String {
        let mut logs = String::new();
        for name in self.containers() {
            let output = std::process::Command::new("docker")
                .args(["logs", "--tail", &lines.to_string(), &name])
                .output()
                .expect("docker logs");
            logs.push_str(&format!(
                "--- {name}\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        logs
    }

    /// The names of the containers it runs now.
    pub fn containers(&self) -> Vec<String> {
        let output = std::process::Command::new("docker")
            .args(["ps", "--filter", &format!("label={LABEL}={}", self.node)])
            .args(["--format", "{{.Names}}"])
            .output()
            .expect("docker ps");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Kubelet {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
        remove_all_containers(&self.node);
    }
}

fn remove_all_containers(node: &str) {
    let output = std::process::Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("label={LABEL}={node}")])
        .output();
    let Ok(output) = output else { return };
    let ids: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    if !ids.is_empty() {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f"])
            .args(&ids)
            .output();
    }
}

async fn register_node(client: &Client, node: &str) {
    let nodes: Api<Node> = Api::all(client.clone());
    let object: Node = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": { "name": node, "labels": { "kubernetes.io/hostname": node } },
    }))
    .expect("node");
    let params = PatchParams::apply("anytrade-test-kubelet").force();
    nodes
        .patch(node, &params, &Patch::Apply(&object))
        .await
        .expect("register the fake node");
    let status = json!({ "status": {
        "conditions": [{ "type": "Ready", "status": "True", "reason": "KubeletReady",
                         "message": "a fake kubelet for tests" }],
        "addresses": [{ "type": "InternalIP", "address": "127.0.0.1" }],
        "capacity": { "cpu": "2", "memory": "24Gi", "pods": "110" },
        "allocatable": { "cpu": "2", "memory": "24Gi", "pods": "110" },
    }});
    nodes
        .patch_status(node, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("the fake node's status");
}

/// A pod's container the fake kubelet runs.
struct Running {
    container: String,
    restarts: i32,
    /// The state last written, to write only changes.
    written: Value,
    /// When a crashed container of a restarting pod runs again.
    restart_at: Option<tokio::time::Instant>,
    last_state: Value,
    started_at: String,
}

struct NodeLoop {
    pods: Api<Pod>,
    config_maps: Api<ConfigMap>,
    secrets: Api<Secret>,
    services: Api<Service>,
    node: String,
    dir: PathBuf,
    /// By pod uid.
    running: HashMap<String, Running>,
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

impl NodeLoop {
    async fn pass(&mut self) -> Result<(), Failure> {
        let pods = self.pods.list(&ListParams::default()).await?;
        let mut seen = Vec::new();
        for pod in pods.items {
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            seen.push(uid.clone());
            let name = pod.metadata.name.clone().unwrap_or_default();
            let spec = pod.spec.clone().unwrap_or_default();
            if pod.metadata.deletion_timestamp.is_some() {
                self.end(&uid).await;
                let now = DeleteParams {
                    grace_period_seconds: Some(0),
                    ..Default::default()
                };
                let _ = self.pods.delete(&name, &now).await;
                continue;
            }
            match spec.node_name.as_deref() {
                None => self.bind(&name).await?,
                Some(node) if node == self.node => {
                    if let Err(e) = self.tend(&pod, &uid, &name).await {
                        eprintln!("fake kubelet: pod {name}: {e}");
                    }
                }
                Some(_) => {}
            }
        }
        let gone: Vec<String> = self
            .running
            .keys()
            .filter(|uid| !seen.contains(uid))
            .cloned()
            .collect();
        for uid in gone {
            self.end(&uid).await;
        }
        Ok(())
    }

    /// What the scheduler does: the pod goes to this node.
    async fn bind(&self, name: &str) -> Result<(), Failure> {
        let binding = json!({
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": { "name": name },
            "target": { "apiVersion": "v1", "kind": "Node", "name": self.node },
        });
        let _: Value = self
            .pods
            .create_subresource("binding", name, &PostParams::default(), &binding)
            .await?;
        Ok(())
    }

    /// Stops and removes the pod's container.
    async fn end(&mut self, uid: &str) {
        if let Some(running) = self.running.remove(uid) {
            let _ = docker(&["stop", "-t", "20", &running.container]).await;
            let _ = docker(&["rm", "-f", &running.container]).await;
        }
    }

    /// Runs the pod's container when it runs nothing yet, else writes how it is doing.
    async fn tend(&mut self, pod: &Pod, uid: &str, name: &str) -> Result<(), Failure> {
        let phase = pod.status.as_ref().and_then(|s| s.phase.clone());
        if !self.running.contains_key(uid) {
            if matches!(phase.as_deref(), Some("Succeeded" | "Failed")) {
                return Ok(());
            }
            let Some(container) = self.run(pod, uid, name).await? else {
                return Ok(());
            };
            self.running.insert(
                uid.to_owned(),
                Running {
                    container,
                    restarts: 0,
                    written: Value::Null,
                    restart_at: None,
                    last_state: json!({}),
                    started_at: now(),
                },
            );
        }
        self.report(pod, uid, name).await
    }

    /// Starts the pod's container; `None` while something it mounts does not exist yet.
    async fn run(&self, pod: &Pod, uid: &str, name: &str) -> Result<Option<String>, Failure> {
        let spec = pod.spec.clone().unwrap_or_default();
        let container = spec
            .containers
            .first()
            .cloned()
            .ok_or("a pod without containers")?;
        let security = spec.security_context.clone().unwrap_or_default();
        let uid_run = security.run_as_user.unwrap_or(1000);
        let gid_run = security.run_as_group.unwrap_or(uid_run);
        let fs_group = security.fs_group;
        let pod_dir = self.dir.join("pods").join(uid);
        let mut args: Vec<String> = vec![
            "run".into(),
            "-d".into(),
            "--name".into(),
            container_name(name),
            "--label".into(),
            format!("{LABEL}={}", self.node),
            "--user".into(),
            format!("{uid_run}:{gid_run}"),
            "--add-host".into(),
            "host.docker.internal:host-gateway".into(),
        ];
        if let Some(group) = fs_group {
            args.extend(["--group-add".into(), group.to_string()]);
        }
        let confined = container.security_context.clone().unwrap_or_default();
        if confined.read_only_root_filesystem == Some(true) {
            args.push("--read-only".into());
        }
        if confined.allow_privilege_escalation == Some(false) {
            args.extend(["--security-opt".into(), "no-new-privileges".into()]);
        }
        let dropped = confined
            .capabilities
            .and_then(|c| c.drop)
            .unwrap_or_default();
        for capability in dropped {
            args.extend(["--cap-drop".into(), capability]);
        }
        if let Some(dir) = &container.working_dir {
            args.extend(["-w".into(), dir.clone()]);
        }
        for env in container.env.clone().unwrap_or_default() {
            let value = match (&env.value, &env.value_from) {
                (Some(value), _) => value.clone(),
                (None, Some(from)) => match &from.secret_key_ref {
                    Some(reference) => {
                        let Some(secret) = self.secrets.get_opt(&reference.name).await? else {
                            return Ok(None);
                        };
                        let data = secret.data.unwrap_or_default();
                        let Some(value) = data.get(&reference.key) else {
                            return Ok(None);
                        };
                        String::from_utf8_lossy(&value.0).into_owned()
                    }
                    None => continue,
                },
                (None, None) => String::new(),
            };
            args.extend(["-e".into(), format!("{}={value}", env.name)]);
        }
        let volumes = spec.volumes.clone().unwrap_or_default();
        for mount in container.volume_mounts.clone().unwrap_or_default() {
            let Some(volume) = volumes.iter().find(|v| v.name == mount.name) else {
                return Err(format!("no volume {}", mount.name).into());
            };
            let read_only = mount.read_only == Some(true);
            match self
                .volume(volume, &pod_dir, (uid_run, gid_run), fs_group)
                .await?
            {
                Some(Mounted::Dir(dir)) => {
                    let suffix = if read_only { ":ro" } else { "" };
                    args.extend([
                        "-v".into(),
                        format!("{}:{}{suffix}", dir.display(), mount.mount_path),
                    ]);
                }
                Some(Mounted::Tmpfs(options)) => {
                    args.extend(["--tmpfs".into(), format!("{}:{options}", mount.mount_path)]);
                }
                None => return Ok(None),
            }
        }
        args.extend(self.publish(pod, &container).await?);
        if let Some(limits) = container.resources.as_ref().and_then(|r| r.limits.as_ref()) {
            if let Some(memory) = limits.get("memory") {
                args.extend(["--memory".into(), memory.0.clone()]);
            }
            if let Some(cpu) = limits.get("cpu") {
                let cores = match cpu.0.strip_suffix('m') {
                    Some(milli) => milli.parse::<f64>().unwrap_or(1000.0) / 1000.0,
                    None => cpu.0.parse::<f64>().unwrap_or(1.0),
                };
                args.extend(["--cpus".into(), format!("{cores}")]);
            }
        }
        let command = container.command.clone().unwrap_or_default();
        if let Some((entrypoint, rest)) = command.split_first() {
            args.extend(["--entrypoint".into(), entrypoint.clone()]);
            args.push(image(&container));
            args.extend(rest.iter().cloned());
        } else {
            args.push(image(&container));
        }
        args.extend(container.args.clone().unwrap_or_default());
        let _ = docker(&["rm", "-f", &container_name(name)]).await;
        let arguments: Vec<&str> = args.iter().map(String::as_str).collect();
        docker(&arguments).await?;
        Ok(Some(container_name(name)))
    }

    /// `-p` options: the ports of every Service selecting the pod, on its cluster IP.
    async fn publish(&self, pod: &Pod, container: &Container) -> Result<Vec<String>, Failure> {
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        let mut options = Vec::new();
        for service in self.services.list(&ListParams::default()).await?.items {
            let Some(spec) = service.spec else { continue };
            let selector = spec.selector.clone().unwrap_or_default();
            let selects =
                !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v));
            let Some(ip) = spec.cluster_ip.clone().filter(|_| selects) else {
                continue;
            };
            for port in spec.ports.unwrap_or_default() {
                let target = match &port.target_port {
                    Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n)) => {
                        Some(*n)
                    }
                    Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(
                        name,
                    )) => container
                        .ports
                        .iter()
                        .flatten()
                        .find(|p| p.name.as_deref() == Some(name))
                        .map(|p| p.container_port),
                    None => Some(port.port),
                };
                if let Some(target) = target {
                    options.extend(["-p".into(), format!("{ip}:{}:{target}", port.port)]);
                }
            }
        }
        Ok(options)
    }

    /// A volume as a host directory (or a tmpfs); `None` while its source is missing.
    async fn volume(
        &self,
        volume: &Volume,
        pod_dir: &Path,
        (uid, gid): (i64, i64),
        fs_group: Option<i64>,
    ) -> Result<Option<Mounted>, Failure> {
        let group = fs_group.unwrap_or(gid);
        let dir = pod_dir.join(&volume.name);
        if let Some(source) = &volume.config_map {
            let Some(map) = self.config_maps.get_opt(&source.name).await? else {
                return Ok(None);
            };
            let files = map
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes()))
                .collect();
            write_files(&dir, files, 0o644, group)?;
            return Ok(Some(Mounted::Dir(dir)));
        }
        if let Some(source) = &volume.secret {
            let name = source.secret_name.clone().unwrap_or_default();
            let Some(secret) = self.secrets.get_opt(&name).await? else {
                return Ok(None);
            };
            let files = secret
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect();
            let mode = source.default_mode.map(|m| m as u32).unwrap_or(0o644);
            write_files(&dir, files, mode, group)?;
            return Ok(Some(Mounted::Dir(dir)));
        }
        if let Some(claim) = &volume.persistent_volume_claim {
            // Kept across pods, as a bound volume would be.
            let dir = self.dir.join("volumes").join(&claim.claim_name);
            owned_dir(&dir, uid, group)?;
            return Ok(Some(Mounted::Dir(dir)));
        }
        if let Some(empty) = &volume.empty_dir {
            if empty.medium.as_deref() == Some("Memory") {
                let size = empty
                    .size_limit
                    .as_ref()
                    .map(|q| q.0.replace("Mi", "m").replace("Gi", "g"))
                    .unwrap_or_else(|| "64m".into());
                return Ok(Some(Mounted::Tmpfs(format!(
                    "rw,nosuid,nodev,size={size},mode=1777"
                ))));
            }
            owned_dir(&dir, uid, group)?;
            return Ok(Some(Mounted::Dir(dir)));
        }
        Err(format!(
            "volume {} is of a kind the fake kubelet does not mount",
            volume.name
        )
        .into())
    }

    /// Writes the pod's status from its container's state.
    async fn report(&mut self, pod: &Pod, uid: &str, name: &str) -> Result<(), Failure> {
        let spec = pod.spec.clone().unwrap_or_default();
        let restart_always = spec.restart_policy.as_deref().unwrap_or("Always") == "Always";
        let container = spec.containers.first().cloned().unwrap_or_default();
        let Some(running) = self.running.get_mut(uid) else {
            return Ok(());
        };
        let inspected = inspect(&running.container).await;
        let state = &inspected["State"];
        let ip = inspected["NetworkSettings"]["IPAddress"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (phase, container_state, ready) = if state["Running"] == true {
            let ready = match readiness_url(&container, &ip) {
                Some(url) => reqwest::Client::new()
                    .get(url)
                    .timeout(Duration::from_secs(1))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success()),
                None => true,
            };
            let started = json!({ "running": { "startedAt": running.started_at } });
            ("Running", started, ready)
        } else {
            let code = state["ExitCode"].as_i64().unwrap_or(-1);
            let oom = state["OOMKilled"] == true;
            let reason = if oom {
                "OOMKilled"
            } else if code == 0 {
                "Completed"
            } else {
                "Error"
            };
            let mut terminated = json!({
                "exitCode": code,
                "reason": reason,
                "startedAt": running.started_at,
                "finishedAt": state["FinishedAt"].as_str().map(trim_nanos).unwrap_or_else(now),
                "containerID": format!("docker://{}", inspected["Id"].as_str().unwrap_or("")),
            });
            if code != 0 {
                // terminationMessagePolicy FallbackToLogsOnError: the end of its log.
                terminated["message"] = json!(log_tail(&running.container, 80).await);
            }
            if restart_always {
                match running.restart_at {
                    None => {
                        running.restart_at = Some(tokio::time::Instant::now() + CRASH_BACKOFF);
                        running.restarts += 1;
                        running.last_state = json!({ "terminated": terminated });
                    }
                    Some(at) if tokio::time::Instant::now() >= at => {
                        running.restart_at = None;
                        running.started_at = now();
                        let _ = docker(&["start", &running.container]).await;
                    }
                    Some(_) => {}
                }
                let waiting = json!({ "waiting": { "reason": "CrashLoopBackOff",
                    "message": format!("back-off restarting failed container {name}") } });
                ("Running", waiting, false)
            } else {
                let phase = if code == 0 { "Succeeded" } else { "Failed" };
                (phase, json!({ "terminated": terminated }), false)
            }
        };
        let ready_text = if ready { "True" } else { "False" };
        let status = json!({
            "phase": phase,
            "hostIP": "127.0.0.1",
            "podIP": ip,
            "startTime": running.started_at,
            "conditions": [
                { "type": "PodScheduled", "status": "True" },
                { "type": "Initialized", "status": "True" },
                { "type": "ContainersReady", "status": ready_text },
                { "type": "Ready", "status": ready_text },
            ],
            "containerStatuses": [{
                "name": container.name,
                "image": image(&container),
                "imageID": "",
                "containerID": format!("docker://{}", inspected["Id"].as_str().unwrap_or("")),
                "ready": ready,
                "started": phase == "Running",
                "restartCount": running.restarts,
                "state": container_state,
                "lastState": running.last_state,
            }],
        });
        if status == running.written {
            return Ok(());
        }
        self.pods
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(&json!({ "status": status })),
            )
            .await?;
        if let Some(running) = self.running.get_mut(uid) {
            running.written = status;
        }
        Ok(())
    }
}

enum Mounted {
    Dir(PathBuf),
    Tmpfs(String),
}

fn container_name(pod: &str) -> String {
    format!("k8s-{pod}")
}

fn image(container: &Container) -> String {
    container.image.clone().unwrap_or_default()
}

/// Where the container's readiness probe asks, by its address on the engine's network.
fn readiness_url(container: &Container, ip: &str) -> Option<String> {
    let get = container.readiness_probe.as_ref()?.http_get.as_ref()?;
    let port = match &get.port {
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => *n,
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(name) => {
            container
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name))?
                .container_port
        }
    };
    let path = get.path.clone().unwrap_or_else(|| "/".into());
    (!ip.is_empty()).then(|| format!("http://{ip}:{port}{path}"))
}

fn owned_dir(dir: &Path, uid: i64, gid: i64) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)?;
    std::os::unix::fs::chown(dir, Some(uid as u32), Some(gid as u32))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o2775))?;
    Ok(())
}

/// The files of a ConfigMap or Secret, readable by `group`, as a kubelet projects them.
fn write_files(
    dir: &Path,
    files: BTreeMap<String, Vec<u8>>,
    mode: u32,
    group: i64,
) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        std::os::unix::fs::chown(&path, Some(0), Some(group as u32))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

async fn docker(args: &[&str]) -> Result<String, Failure> {
    let output = Command::new("docker").args(args).output().await?;
    if !output.status.success() {
        return Err(format!(
            "docker {}: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

async fn inspect(container: &str) -> Value {
    let Ok(text) = docker(&["inspect", container]).await else {
        return Value::Null;
    };
    let all: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    all.get(0).cloned().unwrap_or(Value::Null)
}

async fn log_tail(container: &str, lines: usize) -> String {
    let output = Command::new("docker")
        .args(["logs", "--tail", &lines.to_string(), container])
        .output()
        .await;
    let Ok(output) = output else {
        return String::new();
    };
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    // A kubelet keeps at most 4096 bytes of it.
    let start = text.len().saturating_sub(4096);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_owned()
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Docker's nanosecond times in the seconds Kubernetes keeps.
fn trim_nanos(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|_| now())
}
