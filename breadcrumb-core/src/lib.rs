#![doc = include_str!("../../README.md")]

pub mod agent;
pub mod connector;
pub mod crypto;
pub mod error;
pub mod filters;
pub mod guard;
pub mod ids;
pub mod llm;
pub mod model;
pub mod schema;
pub mod service;
pub mod store;
pub mod token;

pub use error::{Error, Result};
pub use service::{Breadcrumb, EndUser, Principal, ServiceConfig};
