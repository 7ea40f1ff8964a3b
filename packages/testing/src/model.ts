export {
  type ScriptedCall,
  type ScriptedCallMethod,
  type ScriptedModelOptions,
  scriptedModel,
} from "./scripted-model.ts";
export {
  type ScriptText,
  type ScriptTextTurn,
  type ScriptToolCall,
  type ScriptToolTurn,
  type ScriptTurn,
  type ScriptTurnEnding,
  textTurn,
  toolTurn,
} from "./scripted-model-script.ts";
export type {
  ScriptedFinishReason,
  ScriptedGenerateResult,
  ScriptedModel,
  ScriptedModelCallOptions,
  ScriptedPromptMessage,
  ScriptedPromptPart,
  ScriptedResponseMetadata,
  ScriptedStreamPart,
  ScriptedStreamResult,
  ScriptedTextContent,
  ScriptedToolCallContent,
  ScriptedToolDefinition,
  ScriptedUsage,
} from "./scripted-model-types.ts";
