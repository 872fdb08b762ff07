namespace LlmSizer.Hub;
