pub mod conversations;
pub mod embed;
pub mod meta;
pub mod settings;
pub mod sources;
pub mod spaces;
