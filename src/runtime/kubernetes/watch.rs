//! The runtime's view of its namespace, kept current by watches (kube-runtime
//! reflectors) rather than polling: the Deployments, Pods, Services and Jobs this
//! control plane made, by its labels. Readers wait on [`Watched::changed`] for the next
//! change instead of sleeping.

use std::fmt::Debug;
use std::hash::Hash;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::runtime::RuntimeError;

/// How long a caller waits for the first listing before the API server counts as
/// unreachable.
const FIRST_LIST: Duration = Duration::from_secs(10);

pub struct Watched {
    namespace: String,
    pub deployments: Store<Deployment>,
    pub pods: Store<Pod>,
    pub services: Store<Service>,
    pub jobs: Store<Job>,
    changes: watch::Receiver<u64>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Watched {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Watched {
    /// Starts watching what `selector` (this control plane's labels) matches in
    /// `namespace`.
    pub fn start(client: &Client, namespace: &str, selector: &str) -> Self {
        let (bump, changes) = watch::channel(0u64);
        let mut tasks = Vec::new();
        let deployments = follow::<Deployment>(client, namespace, selector, &bump, &mut tasks);
        let pods = follow::<Pod>(client, namespace, selector, &bump, &mut tasks);
        let services = follow::<Service>(client, namespace, selector, &bump, &mut tasks);
        let jobs = follow::<Job>(client, namespace, selector, &bump, &mut tasks);
        Self {
            namespace: namespace.to_owned(),
            deployments,
            pods,
            services,
            jobs,
            changes,
            tasks,
        }
    }

    /// Waits until every watch has listed once; an error when the API server did not
    /// answer in time.
    pub async fn ready(&self) -> Result<(), RuntimeError> {
        let all = async {
            self.deployments.wait_until_ready().await.ok();
            self.pods.wait_until_ready().await.ok();
            self.services.wait_until_ready().await.ok();
            self.jobs.wait_until_ready().await.ok();
        };
        tokio::time::timeout(FIRST_LIST, all).await.map_err(|_| {
            RuntimeError::Cluster(format!(
                "the API server did not list namespace {} within {} s",
                self.namespace,
                FIRST_LIST.as_secs()
            ))
        })
    }

    /// Returns at the next change of anything watched, or after `at_most`.
    pub async fn changed(&self, at_most: Duration) {
        let mut changes = self.changes.clone();
        changes.mark_unchanged();
        let _ = tokio::time::timeout(at_most, changes.changed()).await;
    }

    /// The object named `name`, as last seen.
    pub fn named<K>(&self, store: &Store<K>, name: &str) -> Option<std::sync::Arc<K>>
    where
        K: Resource<DynamicType = ()> + Clone,
    {
        store.get(&ObjectRef::new(name).within(&self.namespace))
    }
}

/// A reflector for `K` in `namespace`, its events counted on `bump`.
fn follow<K>(
    client: &Client,
    namespace: &str,
    selector: &str,
    bump: &watch::Sender<u64>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Store<K>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + Debug
        + DeserializeOwned
        + Send
        + Sync
        + 'static,
    ObjectRef<K>: Hash + Eq,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let (store, writer) = reflector::store();
    let config = watcher::Config::default().labels(selector);
    let stream = reflector::reflector(writer, watcher(api, config)).default_backoff();
    let bump = bump.clone();
    let kind = K::kind(&());
    tasks.push(tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(_) => {
                    bump.send_modify(|n| *n = n.wrapping_add(1));
                }
                Err(e) => {
                    tracing::warn!(%kind, error = %e, "watching the cluster failed; retrying")
                }
            }
        }
    }));
    store
}
