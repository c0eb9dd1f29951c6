//! CPU and memory limits of a bot, as one value.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::{CpuLimit, MemoryLimit};

/// Optional CPU and memory limits; `None` leaves the runtime's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceLimits {
    pub cpu: Option<CpuLimit>,
    pub memory: Option<MemoryLimit>,
}

impl ResourceLimits {
    /// Errors name `resources.cpu` or `resources.memory`.
    pub fn parse(cpu: Option<&str>, memory: Option<&str>) -> Result<Self, DomainError> {
        Ok(Self {
            cpu: cpu.map(CpuLimit::parse).transpose()?,
            memory: memory.map(MemoryLimit::parse).transpose()?,
        })
    }
}
