//! What the objects the API server reports say about a bot or a job, in the runtime's
//! terms ([`InstanceState`]). Pure functions over the watched objects.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ContainerStateTerminated, ContainerStatus, Pod};

use super::objects::CONTAINER;
use crate::runtime::InstanceState;

/// Reasons a container waits with that mean it will not start without a change.
const STUCK: [&str; 6] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
];

/// The pod that speaks for a bot: the newest of `pods` not being deleted.
pub fn current_pod<'a>(pods: impl IntoIterator<Item = &'a Pod>) -> Option<&'a Pod> {
    pods.into_iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .max_by_key(|pod| pod.metadata.creation_timestamp.clone())
}

fn container(pod: &Pod) -> Option<&ContainerStatus> {
    pod.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .iter()
        .find(|status| status.name == CONTAINER)
}

/// Whether the pod says it is ready (its readiness probe answered).
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

/// Why a pod is not ready yet, in Kubernetes' words where it has some: not scheduled
/// (no node has room), its container waiting (an image being pulled), or its readiness
/// probe not answering.
pub fn waiting_for(pod: &Pod) -> String {
    let status = pod.status.as_ref();
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    if let Some(unscheduled) = conditions
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
    {
        let reason = unscheduled.reason.as_deref().unwrap_or("Unschedulable");
        let message = unscheduled.message.as_deref().unwrap_or("");
        return format!("the pod is not scheduled ({reason}) {message}")
            .trim_end()
            .to_owned();
    }
    if pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_ref())
        .is_none()
    {
        return "the pod is not scheduled on a node".into();
    }
    let waiting = container(pod)
        .and_then(|c| c.state.as_ref())
        .and_then(|s| s.waiting.as_ref());
    if let Some(waiting) = waiting {
        let reason = waiting.reason.as_deref().unwrap_or("Waiting");
        let message = waiting.message.as_deref().unwrap_or("");
        return format!("its container is waiting ({reason}) {message}")
            .trim_end()
            .to_owned();
    }
    "its readiness probe (the REST API's ping) does not answer".into()
}

/// How a bot's pod is doing: running, not yet running, or ended (with why).
pub fn bot_state(pod: Option<&Pod>) -> InstanceState {
    let Some(pod) = pod else {
        return InstanceState::Created;
    };
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if phase == Some("Failed") {
        let status = pod.status.as_ref();
        let reason = status.and_then(|s| s.reason.as_deref()).unwrap_or("Failed");
        let message = status.and_then(|s| s.message.as_deref()).unwrap_or("");
        return InstanceState::Exited {
            detail: format!("the pod failed ({reason}) {message}")
                .trim_end()
                .to_owned(),
        };
    }
    let Some(container) = container(pod) else {
        return InstanceState::Created;
    };
    let state = container.state.as_ref();
    if let Some(terminated) = state.and_then(|s| s.terminated.as_ref()) {
        return InstanceState::Exited {
            detail: format!("freqtrade {}", ended(terminated)),
        };
    }
    if let Some(waiting) = state.and_then(|s| s.waiting.as_ref()) {
        let reason = waiting.reason.as_deref().unwrap_or("");
        if reason == "CrashLoopBackOff" {
            let last = container
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.as_ref());
            let detail = match last {
                Some(terminated) => format!("freqtrade {}, restarting", ended(terminated)),
                None => "freqtrade keeps ending, restarting".to_owned(),
            };
            return InstanceState::Exited { detail };
        }
        if STUCK.contains(&reason) {
            let message = waiting.message.as_deref().unwrap_or("");
            return InstanceState::Exited {
                detail: format!("the pod cannot start ({reason}) {message}")
                    .trim_end()
                    .to_owned(),
            };
        }
        return InstanceState::Created;
    }
    if state.is_some_and(|s| s.running.is_some()) && phase == Some("Running") {
        return InstanceState::Running;
    }
    InstanceState::Created
}

/// The last words of the bot's ended container (its termination message: the end of its
/// log, where the node keeps it), for a start that failed.
pub fn last_words(pod: &Pod) -> Option<String> {
    let container = container(pod)?;
    let terminated = container
        .state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .or_else(|| container.last_state.as_ref()?.terminated.as_ref())?;
    terminated.message.clone().filter(|m| !m.trim().is_empty())
}

/// `exit code N (reason), ended at T`.
fn ended(terminated: &ContainerStateTerminated) -> String {
    let mut text = format!("exit code {}", terminated.exit_code);
    match terminated.reason.as_deref() {
        Some("OOMKilled") => text.push_str(", out of memory"),
        Some(reason) if reason != "Error" && reason != "Completed" => {
            text.push_str(&format!(" ({reason})"));
        }
        _ => {}
    }
    let at = terminated
        .finished_at
        .as_ref()
        .and_then(|at| chrono::DateTime::from_timestamp(at.0.as_second(), 0));
    if let Some(at) = at {
        let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        text.push_str(&format!(", ended at {at}"));
    }
    text
}

/// Where a Job is: running, or ended well or badly (Kubernetes' word for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobPhase {
    Running,
    Complete,
    Failed { reason: String },
}

pub fn job_phase(job: &Job) -> JobPhase {
    let conditions = job
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    for condition in conditions.iter().filter(|c| c.status == "True") {
        match condition.type_.as_str() {
            "Complete" => return JobPhase::Complete,
            "Failed" => {
                let reason = condition.reason.clone().unwrap_or_default();
                let message = condition.message.clone().unwrap_or_default();
                return JobPhase::Failed {
                    reason: format!("{reason} {message}").trim().to_owned(),
                };
            }
            _ => {}
        }
    }
    JobPhase::Running
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": { "name": "p", "creationTimestamp": "2026-12-07T10:00:00Z" },
            "status": status,
        }))
        .expect("pod")
    }

    #[test]
    fn a_running_container_is_running_and_ready_when_its_probe_answers() {
        let running = pod(json!({
            "phase": "Running",
            "conditions": [{ "type": "Ready", "status": "True" }],
            "containerStatuses": [{
                "name": "freqtrade", "ready": true, "restartCount": 0, "image": "i", "imageID": "",
                "state": { "running": { "startedAt": "2026-12-07T10:00:01Z" } }
            }]
        }));
        assert_eq!(bot_state(Some(&running)), InstanceState::Running);
        assert!(is_ready(&running));
        assert_eq!(bot_state(None), InstanceState::Created);
        assert_eq!(
            bot_state(Some(&pod(json!({ "phase": "Pending" })))),
            InstanceState::Created
        );
    }

    #[test]
    fn an_ended_or_crashing_container_says_how_and_when() {
        let crashing = pod(json!({
            "phase": "Running",
            "containerStatuses": [{
                "name": "freqtrade", "ready": false, "restartCount": 3, "image": "i", "imageID": "",
                "state": { "waiting": { "reason": "CrashLoopBackOff" } },
                "lastState": { "terminated": {
                    "exitCode": 2, "reason": "Error", "finishedAt": "2026-12-07T10:01:02Z",
                    "message": "x - freqtrade - ERROR - bad config"
                } }
            }]
        }));
        assert_eq!(
            bot_state(Some(&crashing)),
            InstanceState::Exited {
                detail: "freqtrade exit code 2, ended at 2026-12-07T10:01:02Z, restarting".into()
            }
        );
        assert_eq!(
            last_words(&crashing).as_deref(),
            Some("x - freqtrade - ERROR - bad config")
        );
        let killed = pod(json!({
            "phase": "Running",
            "containerStatuses": [{
                "name": "freqtrade", "ready": false, "restartCount": 0, "image": "i", "imageID": "",
                "state": { "terminated": { "exitCode": 137, "reason": "OOMKilled" } }
            }]
        }));
        assert_eq!(
            bot_state(Some(&killed)),
            InstanceState::Exited {
                detail: "freqtrade exit code 137, out of memory".into()
            }
        );
        let unpullable = pod(json!({
            "phase": "Pending",
            "containerStatuses": [{
                "name": "freqtrade", "ready": false, "restartCount": 0, "image": "i", "imageID": "",
                "state": { "waiting": { "reason": "ErrImagePull", "message": "no such image" } }
            }]
        }));
        assert_eq!(
            bot_state(Some(&unpullable)),
            InstanceState::Exited {
                detail: "the pod cannot start (ErrImagePull) no such image".into()
            }
        );
    }

    #[test]
    fn a_pod_not_ready_says_what_it_waits_for() {
        let unscheduled = pod(json!({
            "phase": "Pending",
            "conditions": [{ "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                             "message": "0/3 nodes are available: 3 Insufficient memory." }]
        }));
        assert_eq!(
            waiting_for(&unscheduled),
            "the pod is not scheduled (Unschedulable) 0/3 nodes are available: 3 Insufficient memory."
        );
        assert_eq!(
            waiting_for(&pod(json!({ "phase": "Pending" }))),
            "the pod is not scheduled on a node"
        );
        let mut pulling = pod(json!({
            "phase": "Pending",
            "containerStatuses": [{
                "name": "freqtrade", "ready": false, "restartCount": 0, "image": "i", "imageID": "",
                "state": { "waiting": { "reason": "ContainerCreating" } }
            }]
        }));
        pulling.spec = Some(k8s_openapi::api::core::v1::PodSpec {
            node_name: Some("n".into()),
            ..Default::default()
        });
        assert_eq!(
            waiting_for(&pulling),
            "its container is waiting (ContainerCreating)"
        );
    }

    #[test]
    fn the_newest_pod_not_being_deleted_speaks_for_the_bot() {
        let old: Pod = serde_json::from_value(json!({
            "metadata": { "name": "old", "creationTimestamp": "2026-12-07T10:00:00Z" }
        }))
        .expect("pod");
        let new: Pod = serde_json::from_value(json!({
            "metadata": { "name": "new", "creationTimestamp": "2026-12-07T11:00:00Z" }
        }))
        .expect("pod");
        let leaving: Pod = serde_json::from_value(json!({
            "metadata": {
                "name": "leaving", "creationTimestamp": "2026-12-07T12:00:00Z",
                "deletionTimestamp": "2026-12-07T12:01:00Z"
            }
        }))
        .expect("pod");
        let pods = [old, new, leaving];
        let current = current_pod(&pods).expect("a pod");
        assert_eq!(current.metadata.name.as_deref(), Some("new"));
    }

    #[test]
    fn a_jobs_conditions_say_whether_it_ended_and_how() {
        let job = |conditions: serde_json::Value| -> Job {
            serde_json::from_value(
                json!({ "metadata": {}, "status": { "conditions": conditions } }),
            )
            .expect("job")
        };
        assert_eq!(job_phase(&job(json!([]))), JobPhase::Running);
        assert_eq!(
            job_phase(&job(json!([{ "type": "Complete", "status": "True" }]))),
            JobPhase::Complete
        );
        assert_eq!(
            job_phase(&job(json!([{
                "type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit"
            }]))),
            JobPhase::Failed {
                reason: "BackoffLimitExceeded Job has reached the specified backoff limit".into()
            }
        );
    }
}
