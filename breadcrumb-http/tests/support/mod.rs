pub mod scripted_llm;
