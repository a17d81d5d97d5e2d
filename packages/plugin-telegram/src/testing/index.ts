export {
  type BotApiObject,
  FakeBotApi,
  type FakeBotApiOptions,
  type FakeFailure,
  type FakeUser,
  type RecordedCall,
} from './fake-bot-api.js';
