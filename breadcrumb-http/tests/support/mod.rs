pub mod app;
pub mod scripted_llm;
