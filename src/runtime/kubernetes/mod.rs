//! The kubernetes runtime: every bot is a Deployment of one freqtrade pod in
//! `runtime.kubernetes.namespace` (with its ConfigMap, Secret, Service and volume),
//! every backtest or hyperopt a Job, all labelled `anytrade.*` with this control
//! plane's owner label. See [`objects`] for what each object holds.
//!
//! Every object is written with server-side apply under the field manager `anytrade`,
//! so applying twice changes nothing and a start after a crash finishes what the first
//! began. Status comes from watches ([`watch`]), not from polling the API server.
//!
//! - **Stopping** a bot deletes its Deployment (foreground) and waits until its pod is
//!   gone, so two copies never trade at once; its Secret, ConfigMap and Service go with
//!   it (owned by it); its volume stays until the bot is deleted.
//! - **Reaching** a bot's API: inside the cluster by the Service's DNS name, outside by
//!   its cluster IP ([`Reach`]). The API server's service proxy is not used: it takes
//!   the `Authorization` header for itself, and freqtrade needs its own there.
//! - **Jobs** send their results home: the Job's last step uploads its result files
//!   and its log to `PUT /jobs/{id}/results` with a one-time token (see
//!   [`crate::job_uploads`]), so no shared volume or exec is needed. Once the results
//!   are in and the Job has ended, the Job is deleted; the results stay in the database
//!   until the job is.
//! - **Logs** come from the pods' log endpoint; where the cluster does not serve it, a
//!   job's log still arrives with its results, and a pod's end says why in its status.

mod objects;
mod status;
mod watch;

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anytrade_aggregates::values::{BotId, RuntimeKind};
use async_trait::async_trait;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Secret, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, LogParams, Patch, PatchParams};
use kube::{Api, Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgPool;
use uuid::Uuid;

pub use objects::Cluster;
use status::JobPhase;
use watch::Watched;

use super::container::{self, API_PORT, RuntimeIdOf};
use super::files::plain_relative;
use super::output::failure_lines;
use super::{
    BotSpec, Instance, InstanceState, JobSpec, Runtime, RuntimeError, api_answers, labels,
};
use crate::job_uploads::{self, Upload};

/// The field manager of everything this runtime applies.
const FIELD_MANAGER: &str = "anytrade";
/// How long a stop waits for a bot's pod to be gone (its grace period and then some).
const STOP_WAIT: Duration = Duration::from_secs(60);

/// How the control plane reaches a bot's REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// `http://<service>.<namespace>.svc:8080`, from inside the cluster.
    ClusterDns,
    /// `http://<cluster IP>:8080`, from where service addresses are routed.
    ClusterIp,
}

pub struct KubernetesConfig {
    pub cluster: Cluster,
    pub reach: Reach,
    /// This service's address as pods see it, where jobs send their results.
    pub results_url: Option<String>,
    pub start_timeout: Duration,
}

pub struct KubernetesRuntime {
    client: Client,
    config: KubernetesConfig,
    pool: PgPool,
    http: reqwest::Client,
    watched: Watched,
    /// The last job upload read, by job id.
    last_upload: Mutex<Option<(Uuid, Arc<Upload>)>>,
}

fn cluster_error(error: kube::Error) -> RuntimeError {
    match error {
        kube::Error::Api(status) => {
            RuntimeError::Cluster(format!("{} ({})", status.message, status.code))
        }
        other => RuntimeError::Cluster(other.to_string()),
    }
}

fn upload_error(error: job_uploads::UploadError) -> RuntimeError {
    RuntimeError::Results(error.to_string())
}

fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.is_not_found())
}

impl KubernetesRuntime {
    /// Connects with `client` and starts watching the namespace; an error when the API
    /// server does not answer.
    pub async fn connect(
        client: Client,
        config: KubernetesConfig,
        pool: PgPool,
        http: reqwest::Client,
    ) -> Result<Self, RuntimeError> {
        let version = tokio::time::timeout(Duration::from_secs(10), client.apiserver_version())
            .await
            .map_err(|_| RuntimeError::Cluster("the API server did not answer in 10 s".into()))?
            .map_err(cluster_error)?;
        tracing::info!(
            version = %version.git_version,
            namespace = %config.cluster.namespace,
            "the kubernetes runtime is connected"
        );
        let selector = objects::owned_selector(&config.cluster.owner);
        let watched = Watched::start(&client, &config.cluster.namespace, &selector);
        Ok(Self {
            client,
            config,
            pool,
            http,
            watched,
            last_upload: Mutex::new(None),
        })
    }

    fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), &self.config.cluster.namespace)
    }

    /// Applies `object` (server-side, as [`FIELD_MANAGER`]) and returns it as stored.
    async fn apply<K>(&self, object: &K) -> Result<K, RuntimeError>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + Debug
            + Serialize
            + DeserializeOwned,
    {
        let name = object.meta().name.clone().unwrap_or_default();
        let params = PatchParams::apply(FIELD_MANAGER).force();
        self.api::<K>()
            .patch(&name, &params, &Patch::Apply(object))
            .await
            .map_err(cluster_error)
    }

    /// Deletes `name`; one that is gone already counts as deleted.
    async fn delete<K>(&self, name: &str, params: &DeleteParams) -> Result<(), RuntimeError>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + Debug
            + DeserializeOwned,
    {
        match self.api::<K>().delete(name, params).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(cluster_error(e)),
        }
    }

    async fn get<K>(&self, name: &str) -> Result<Option<K>, RuntimeError>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + Debug
            + DeserializeOwned,
    {
        self.api::<K>().get_opt(name).await.map_err(cluster_error)
    }

    /// Applies the objects an owner's pod reads (`dependents`), then the owner, so the
    /// pod never waits for them; they are owned by it, and go when it goes. An owner
    /// made now has no uid before it is applied: its dependents are owned by it after.
    async fn apply_owned<O>(&self, owner: &O, mut dependents: Dependents) -> Result<O, RuntimeError>
    where
        O: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + Debug
            + Serialize
            + DeserializeOwned,
    {
        let name = owner.meta().name.clone().unwrap_or_default();
        let existing = self.get::<O>(&name).await?;
        if let Some(existing) = &existing {
            dependents.own_by(existing);
        }
        self.apply_dependents(&dependents).await?;
        let applied = self.apply(owner).await?;
        if existing.is_none() {
            dependents.own_by(&applied);
            self.apply_dependents(&dependents).await?;
        }
        Ok(applied)
    }

    async fn apply_dependents(&self, dependents: &Dependents) -> Result<(), RuntimeError> {
        self.apply(&dependents.config).await?;
        self.apply(&dependents.secret).await?;
        if let Some(service) = &dependents.service {
            self.apply(service).await?;
        }
        Ok(())
    }

    /// Applies every object of the bot and returns the digest its pod will carry.
    /// Applied whether it runs or not: the same spec changes nothing (the running pod
    /// stays), a new one (new credentials) replaces the pod.
    pub async fn apply_bot(&self, spec: &BotSpec) -> Result<String, RuntimeError> {
        let cluster = &self.config.cluster;
        // One being deleted (stopped, or removed behind AnyTrade's back) would take what
        // is applied now with it, and its pod may still run.
        self.wait_deleted(spec.bot_id, true).await?;
        self.apply(&objects::bot_volume(spec.bot_id, cluster))
            .await?;
        let config = objects::bot_config(spec, cluster);
        let file = container::secrets_file(&spec.environment);
        let secret = objects::bot_secret(spec.bot_id, cluster, &file);
        let digest = objects::config_digest(&config, &secret);
        let deployment = objects::bot_deployment(spec, cluster, &digest);
        let service = objects::bot_service(spec.bot_id, cluster);
        let dependents = Dependents {
            config,
            secret,
            service: Some(service),
        };
        self.apply_owned(&deployment, dependents).await?;
        Ok(digest)
    }

    /// The pods of a bot, as last seen.
    fn bot_pods(&self, bot_id: BotId) -> Vec<Arc<Pod>> {
        self.labelled_pods(labels::BOT_ID, &bot_id.to_string())
    }

    fn labelled_pods(&self, key: &str, value: &str) -> Vec<Arc<Pod>> {
        self.watched
            .pods
            .state()
            .into_iter()
            .filter(|pod| {
                pod.metadata
                    .labels
                    .as_ref()
                    .and_then(|labels| labels.get(key))
                    .is_some_and(|v| v == value)
            })
            .collect()
    }

    /// Where the bot's REST API answers, once its Service exists.
    fn api_url(&self, bot_id: BotId) -> Option<String> {
        let name = objects::bot_service_name(bot_id);
        match self.config.reach {
            Reach::ClusterDns => Some(format!(
                "http://{name}.{}.svc:{API_PORT}",
                self.config.cluster.namespace
            )),
            Reach::ClusterIp => {
                let service = self.watched.named(&self.watched.services, &name)?;
                let ip = service.spec.as_ref()?.cluster_ip.clone()?;
                (ip != "None" && !ip.is_empty()).then(|| format!("http://{ip}:{API_PORT}"))
            }
        }
    }

    /// The bot's instance from its Deployment and its pods.
    fn bot_instance(&self, bot_id: BotId, deployment: &Deployment, pods: &[Arc<Pod>]) -> Instance {
        let state = status::bot_state(status::current_pod(pods.iter().map(Arc::as_ref)));
        let api_url = (state == InstanceState::Running)
            .then(|| self.api_url(bot_id))
            .flatten();
        Instance {
            runtime_id: objects::bot_runtime_id(bot_id),
            kind: RuntimeKind::Kubernetes,
            state,
            labels: deployment.metadata.labels.clone().unwrap_or_default(),
            api_url,
        }
    }

    /// Waits until the bot's Deployment and pods are gone, so that no pod of it runs
    /// when another starts. With `unless_alive`, a Deployment not being deleted is left
    /// to be applied over.
    async fn wait_deleted(&self, bot_id: BotId, unless_alive: bool) -> Result<(), RuntimeError> {
        let name = objects::bot_runtime_id(bot_id);
        self.wait_until_gone(&name, || async {
            let deployment = self.get::<Deployment>(&name).await?;
            let alive = deployment
                .as_ref()
                .is_some_and(|d| d.metadata.deletion_timestamp.is_none());
            let gone = deployment.is_none() && self.bot_pods(bot_id).is_empty();
            Ok((unless_alive && alive) || gone)
        })
        .await
    }

    /// Waits (at most [`STOP_WAIT`]) until `gone` says that `name`, being deleted, is
    /// gone with its pods; asked again at every change seen.
    async fn wait_until_gone<F, Fut>(&self, name: &str, gone: F) -> Result<(), RuntimeError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<bool, RuntimeError>>,
    {
        let deadline = tokio::time::Instant::now() + STOP_WAIT;
        while !gone().await? {
            if tokio::time::Instant::now() >= deadline {
                return Err(RuntimeError::Cluster(format!(
                    "{name} still has a pod {} s after it was deleted",
                    STOP_WAIT.as_secs()
                )));
            }
            self.watched.changed(Duration::from_millis(500)).await;
        }
        Ok(())
    }

    /// Waits until the bot's pod of `digest` (not one of an older spec) is ready and its
    /// API answers, its container ends, or the start timeout passes; the bot is stopped
    /// when it does not come up.
    async fn wait_until_up(&self, bot_id: BotId, digest: &str) -> Result<Instance, RuntimeError> {
        let name = objects::bot_runtime_id(bot_id);
        let deadline = tokio::time::Instant::now() + self.config.start_timeout;
        loop {
            let pods: Vec<Arc<Pod>> = self
                .bot_pods(bot_id)
                .into_iter()
                .filter(|pod| {
                    let annotations = pod.metadata.annotations.as_ref();
                    annotations
                        .and_then(|a| a.get(objects::CONFIG_DIGEST))
                        .map(String::as_str)
                        == Some(digest)
                })
                .collect();
            let pod = status::current_pod(pods.iter().map(Arc::as_ref));
            match status::bot_state(pod) {
                InstanceState::Exited { detail } => {
                    let reason = pod
                        .and_then(last_words)
                        .unwrap_or_else(|| "no error in its log".into());
                    self.stop_bot(bot_id).await?;
                    return Err(RuntimeError::ExitedAtStart {
                        status: detail,
                        reason,
                    });
                }
                InstanceState::Running if pod.is_some_and(status::is_ready) => {
                    if let (Some(api_url), Some(deployment)) = (
                        self.api_url(bot_id),
                        self.watched.named(&self.watched.deployments, &name),
                    ) && api_answers(&self.http, &api_url).await
                    {
                        let mut instance = self.bot_instance(bot_id, &deployment, &pods);
                        instance.state = InstanceState::Running;
                        instance.api_url = Some(api_url);
                        return Ok(instance);
                    }
                }
                _ => {}
            }
            if tokio::time::Instant::now() >= deadline {
                let why = match (pod, self.api_url(bot_id)) {
                    (Some(pod), _) if !status::is_ready(pod) => status::waiting_for(pod),
                    (None, _) => "no pod was made for it".to_owned(),
                    (_, Some(api_url)) => format!("its API at {api_url} did not answer"),
                    (_, None) => "its Service has no address".to_owned(),
                };
                self.stop_bot(bot_id).await?;
                return Err(RuntimeError::NotReady {
                    name,
                    seconds: self.config.start_timeout.as_secs(),
                    why,
                });
            }
            self.watched.changed(Duration::from_millis(500)).await;
        }
    }

    /// How a job ended, from what it sent home (its log and its steps' exit status).
    async fn uploaded_state(&self, job_id: Uuid) -> Result<InstanceState, RuntimeError> {
        let Some(upload) = self.upload(job_id).await? else {
            return Ok(InstanceState::Exited {
                detail: "the job's results are gone".into(),
            });
        };
        let status = format!("exit code {}", upload.exit_status);
        Ok(container::job_end(
            &upload.log(),
            upload.exit_status == 0,
            &status,
        ))
    }

    /// Why a job's pod ended, from its status (its log's end, where the node keeps it).
    fn job_pod_words(&self, job_id: Uuid) -> Option<String> {
        let pods = self.labelled_pods(labels::JOB_ID, &job_id.to_string());
        last_words(status::current_pod(pods.iter().map(Arc::as_ref))?)
    }

    /// What the job sent home, read once per job (its archive is read several times
    /// as the job is followed to its end).
    async fn upload(&self, job_id: Uuid) -> Result<Option<Arc<Upload>>, RuntimeError> {
        if let Ok(last) = self.last_upload.lock()
            && let Some((id, upload)) = last.as_ref()
            && *id == job_id
        {
            return Ok(Some(upload.clone()));
        }
        let upload = job_uploads::received(&self.pool, job_id)
            .await
            .map_err(upload_error)?
            .map(Arc::new);
        if let (Some(upload), Ok(mut last)) = (&upload, self.last_upload.lock()) {
            *last = Some((job_id, upload.clone()));
        }
        Ok(upload)
    }

    /// The Job, from the watch or, when the watch has not seen it yet (just made, say),
    /// from the API server.
    async fn find_job(&self, job_id: Uuid) -> Result<Option<Arc<Job>>, RuntimeError> {
        let name = objects::job_runtime_id(job_id);
        if let Some(job) = self.watched.named(&self.watched.jobs, &name) {
            return Ok(Some(job));
        }
        Ok(self.get::<Job>(&name).await?.map(Arc::new))
    }

    /// The last `lines` lines of a pod's log, where the cluster serves it.
    async fn pod_log(&self, pod: &Pod, lines: usize) -> Result<Vec<String>, RuntimeError> {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let params = LogParams {
            container: Some(objects::CONTAINER.into()),
            tail_lines: Some(i64::try_from(lines).unwrap_or(i64::MAX)),
            ..Default::default()
        };
        let text = self.api::<Pod>().logs(&name, &params).await.map_err(|e| {
            RuntimeError::Cluster(format!(
                "the cluster does not serve {name}'s log: {}",
                cluster_error(e)
            ))
        })?;
        Ok(text.lines().map(str::to_owned).collect())
    }

    fn job_instance(
        &self,
        job_id: Uuid,
        labels: BTreeMap<String, String>,
        state: InstanceState,
    ) -> Instance {
        Instance {
            runtime_id: objects::job_runtime_id(job_id),
            kind: RuntimeKind::Kubernetes,
            state,
            labels,
            api_url: None,
        }
    }

    async fn remove_job(&self, job_id: Uuid, params: &DeleteParams) -> Result<(), RuntimeError> {
        self.delete::<Job>(&objects::job_runtime_id(job_id), params)
            .await?;
        // Owned by the Job; deleted here too for a start cut off before it owned them.
        self.delete::<ConfigMap>(&objects::job_runtime_id(job_id), &DeleteParams::default())
            .await?;
        self.delete::<Secret>(&objects::job_secret_name(job_id), &DeleteParams::default())
            .await
    }
}

/// The bot an object belongs to, by its label.
fn bot_of(meta: &ObjectMeta) -> Option<BotId> {
    meta.labels.as_ref()?.get(labels::BOT_ID)?.parse().ok()
}

/// What a bot's or job's pod reads, owned by its Deployment or Job.
struct Dependents {
    config: ConfigMap,
    secret: Secret,
    service: Option<Service>,
}

impl Dependents {
    fn own_by<O: Resource<DynamicType = ()>>(&mut self, owner: &O) {
        let (api_version, kind) = (O::api_version(&()), O::kind(&()));
        let mut metas = vec![&mut self.config.metadata, &mut self.secret.metadata];
        metas.extend(self.service.as_mut().map(|s| &mut s.metadata));
        for meta in metas {
            objects::owned_by(meta, &api_version, &kind, owner.meta());
        }
    }
}

/// What freqtrade said as its container ended: its last errors, else its last line.
fn last_words(pod: &Pod) -> Option<String> {
    let words = status::last_words(pod)?;
    let lines: Vec<String> = words.lines().map(str::to_owned).collect();
    failure_lines(&lines).or_else(|| lines.last().cloned())
}

#[async_trait]
impl Runtime for KubernetesRuntime {
    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Kubernetes
    }

    fn runtime_id(&self, bot_id: BotId) -> String {
        objects::bot_runtime_id(bot_id)
    }

    async fn create_bot(
        &self,
        bot_id: BotId,
        _freqtrade_version: &str,
    ) -> Result<Instance, RuntimeError> {
        let volume = objects::bot_volume(bot_id, &self.config.cluster);
        self.apply(&volume).await?;
        Ok(Instance {
            runtime_id: objects::bot_runtime_id(bot_id),
            kind: RuntimeKind::Kubernetes,
            state: InstanceState::Created,
            labels: volume.metadata.labels.unwrap_or_default(),
            api_url: None,
        })
    }

    async fn start_bot(&self, spec: &BotSpec) -> Result<Instance, RuntimeError> {
        self.watched.ready().await?;
        let digest = self.apply_bot(spec).await?;
        self.wait_until_up(spec.bot_id, &digest).await
    }

    async fn stop_bot(&self, bot_id: BotId) -> Result<(), RuntimeError> {
        let name = objects::bot_runtime_id(bot_id);
        self.delete::<Deployment>(&name, &DeleteParams::foreground())
            .await?;
        self.wait_deleted(bot_id, false).await
    }

    async fn delete_bot(&self, bot_id: BotId) -> Result<(), RuntimeError> {
        self.watched.ready().await?;
        self.stop_bot(bot_id).await?;
        let plain = DeleteParams::default();
        // Owned by the Deployment; deleted here too for a start cut off before it
        // owned them.
        self.delete::<Service>(&objects::bot_service_name(bot_id), &plain)
            .await?;
        self.delete::<ConfigMap>(&objects::bot_config_name(bot_id), &plain)
            .await?;
        self.delete::<Secret>(&objects::bot_secret_name(bot_id), &plain)
            .await?;
        self.delete::<PersistentVolumeClaim>(&objects::bot_volume_name(bot_id), &plain)
            .await
    }

    async fn bot_status(&self, bot_id: BotId) -> Result<Option<Instance>, RuntimeError> {
        self.watched.ready().await?;
        let name = objects::bot_runtime_id(bot_id);
        Ok(self
            .watched
            .named(&self.watched.deployments, &name)
            .map(|deployment| self.bot_instance(bot_id, &deployment, &self.bot_pods(bot_id))))
    }

    async fn logs(&self, bot_id: BotId, lines: usize) -> Result<Vec<String>, RuntimeError> {
        self.watched.ready().await?;
        let pods = self.bot_pods(bot_id);
        match status::current_pod(pods.iter().map(Arc::as_ref)) {
            Some(pod) => self.pod_log(pod, lines).await,
            None => Ok(Vec::new()),
        }
    }

    async fn run_job(&self, spec: &JobSpec) -> Result<Instance, RuntimeError> {
        self.watched.ready().await?;
        if let Some(instance) = self.job_status(spec.job_id).await? {
            return Ok(instance);
        }
        if spec.steps.iter().all(Vec::is_empty) {
            return Err(RuntimeError::NoSteps(spec.job_id));
        }
        let Some(base) = &self.config.results_url else {
            return Err(RuntimeError::Unset {
                key: "runtime.kubernetes.results_url",
                reason: "a job in the cluster cannot send its results home without this service's address as pods see it".into(),
            });
        };
        let url = format!(
            "{}/jobs/{}/results",
            base.trim_end_matches('/'),
            spec.job_id
        );
        let token = job_uploads::new_token(&self.pool, spec.job_id)
            .await
            .map_err(upload_error)?;
        let cluster = &self.config.cluster;
        let config = objects::job_config(spec, cluster);
        let secret = objects::job_secret(spec, cluster, &token);
        let job = objects::job(spec, cluster, &url);
        let labels = job.metadata.labels.clone().unwrap_or_default();
        let dependents = Dependents {
            config,
            secret,
            service: None,
        };
        self.apply_owned(&job, dependents).await?;
        Ok(self.job_instance(spec.job_id, labels, InstanceState::Running))
    }

    async fn job_status(&self, job_id: Uuid) -> Result<Option<Instance>, RuntimeError> {
        self.watched.ready().await?;
        let job = self.find_job(job_id).await?;
        let sent = job_uploads::sent(&self.pool, job_id)
            .await
            .map_err(upload_error)?;
        let Some(job) = job else {
            // Removed once its results were in; they tell how it ended.
            if sent.is_none() {
                return Ok(None);
            }
            let state = self.uploaded_state(job_id).await?;
            let labels = BTreeMap::from([(labels::JOB_ID.to_owned(), job_id.to_string())]);
            return Ok(Some(self.job_instance(job_id, labels, state)));
        };
        let labels = job.metadata.labels.clone().unwrap_or_default();
        let state = match (status::job_phase(&job), sent) {
            (JobPhase::Running, _) => InstanceState::Running,
            // Its results say how it ended, however the Job ended after sending them.
            (_, Some(_)) => self.uploaded_state(job_id).await?,
            (JobPhase::Complete, None) => InstanceState::Exited {
                detail: "the job ended without sending its results".into(),
            },
            (JobPhase::Failed { reason }, None) => InstanceState::Exited {
                detail: self
                    .job_pod_words(job_id)
                    .map(|words| format!("{reason}: {words}"))
                    .unwrap_or(reason),
            },
        };
        if state != InstanceState::Running
            && sent.is_some()
            && let Err(e) = self.remove_job(job_id, &DeleteParams::background()).await
        {
            // Its results are home: the Job has done its work. Removed on a later look.
            tracing::warn!(job = %job_id, error = %e, "cannot remove a finished Job");
        }
        Ok(Some(self.job_instance(job_id, labels, state)))
    }

    async fn cancel_job(&self, job_id: Uuid) -> Result<(), RuntimeError> {
        self.watched.ready().await?;
        let Some(job) = self.find_job(job_id).await? else {
            return Ok(());
        };
        if status::job_phase(&job) != JobPhase::Running {
            // Ended: kept, its pod's status says why.
            return Ok(());
        }
        // Its token opens nothing any more: a step still ending sends nothing home.
        job_uploads::remove(&self.pool, job_id)
            .await
            .map_err(upload_error)?;
        self.remove_job(job_id, &DeleteParams::foreground()).await?;
        let name = objects::job_runtime_id(job_id);
        self.wait_until_gone(&name, || async {
            let pods = self.labelled_pods(labels::JOB_ID, &job_id.to_string());
            Ok(pods.is_empty() && self.get::<Job>(&name).await?.is_none())
        })
        .await
    }

    async fn job_logs(&self, job_id: Uuid, lines: usize) -> Result<Vec<String>, RuntimeError> {
        self.watched.ready().await?;
        let pods = self.labelled_pods(labels::JOB_ID, &job_id.to_string());
        if let Some(pod) = status::current_pod(pods.iter().map(Arc::as_ref)) {
            match self.pod_log(pod, lines).await {
                Ok(log) => return Ok(log),
                Err(e) => tracing::debug!(job = %job_id, error = %e, "no pod log"),
            }
        }
        let log = self
            .upload(job_id)
            .await?
            .map(|upload| upload.log())
            .unwrap_or_default();
        let skip = log.len().saturating_sub(lines);
        Ok(log.into_iter().skip(skip).collect())
    }

    async fn job_file(&self, job_id: Uuid, path: &str) -> Result<Option<Vec<u8>>, RuntimeError> {
        plain_relative(path)?;
        match self.upload(job_id).await? {
            Some(upload) => upload.file(path).map_err(upload_error),
            None => Ok(None),
        }
    }

    async fn list_instances(&self) -> Result<Vec<Instance>, RuntimeError> {
        self.watched.ready().await?;
        let mut instances = Vec::new();
        // Each bot's pods, found in one pass: the reconciler lists often, fleets are big.
        let mut pods: HashMap<BotId, Vec<Arc<Pod>>> = HashMap::new();
        for pod in self.watched.pods.state() {
            if let Some(bot_id) = bot_of(&pod.metadata) {
                pods.entry(bot_id).or_default().push(pod);
            }
        }
        for deployment in self.watched.deployments.state() {
            if let Some(bot_id) = bot_of(&deployment.metadata) {
                let its_pods = pods.get(&bot_id).map(Vec::as_slice).unwrap_or_default();
                instances.push(self.bot_instance(bot_id, &deployment, its_pods));
            }
        }
        for job in self.watched.jobs.state() {
            let labels = job.metadata.labels.clone().unwrap_or_default();
            let Some(job_id) = labels
                .get(labels::JOB_ID)
                .and_then(|id| Uuid::parse_str(id).ok())
            else {
                continue;
            };
            // From the listing alone: how it ended exactly is `job_status`'s business.
            let state = match status::job_phase(&job) {
                JobPhase::Running => InstanceState::Running,
                JobPhase::Complete => InstanceState::Finished,
                JobPhase::Failed { reason } => InstanceState::Exited { detail: reason },
            };
            instances.push(self.job_instance(job_id, labels, state));
        }
        Ok(instances)
    }

    async fn cleanup(&self, runtime_id: &str) -> Result<(), RuntimeError> {
        match container::parse_runtime_id(runtime_id) {
            Some(RuntimeIdOf::Bot(bot_id)) => self.delete_bot(bot_id).await,
            Some(RuntimeIdOf::Job(job_id)) => {
                self.remove_job(job_id, &DeleteParams::background()).await?;
                if let Ok(mut last) = self.last_upload.lock()
                    && last.as_ref().is_some_and(|(id, _)| *id == job_id)
                {
                    *last = None;
                }
                job_uploads::remove(&self.pool, job_id)
                    .await
                    .map_err(upload_error)
            }
            None => Err(RuntimeError::NotFound(runtime_id.to_owned())),
        }
    }
}
