pub mod conversations;
pub mod embed;
pub mod meta;
pub mod sources;
pub mod spaces;
