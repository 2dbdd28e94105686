// The client's copy of what the server said: objects keyed by id; a frame replaces its object (idempotent).
// Views subscribe to changes; they never patch the DOM from a frame directly.

/** Every change bumps `last_activity_at`; a copy older than the one held must not replace it. */
function older(incoming, held) {
  if (!held || !incoming.last_activity_at || !held.last_activity_at) return false;
  return Date.parse(incoming.last_activity_at) < Date.parse(held.last_activity_at);
}

export class Store extends EventTarget {
  constructor() {
    super();
    this.conversations = new Map(); // id → ConversationPublic
    this.messages = new Map(); // conversation id → Map(message id → MessagePublic)
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** A conversation changed (frame or action): 'conversation' (detail = it) and 'conversation-change'
   * ({conversation, previous}) for whoever compares, e.g. notifications. */
  putConversation(conversation) {
    const previous = this.conversations.get(conversation.id) || null;
    if (older(conversation, previous)) return; // a page or frame computed before a change we already hold
    this.conversations.set(conversation.id, conversation);
    this.emit('conversation', conversation);
    this.emit('conversation-change', { conversation, previous });
  }

  /** A page of conversations from the API (not a change): 'conversations' (detail = the list). */
  putConversations(list) {
    for (const conversation of list) {
      if (!older(conversation, this.conversations.get(conversation.id))) this.conversations.set(conversation.id, conversation);
    }
    this.emit('conversations', list);
  }

  messagesOf(conversationId) {
    let map = this.messages.get(conversationId);
    if (!map) {
      map = new Map();
      this.messages.set(conversationId, map);
    }
    return map;
  }

  putMessage(message) {
    const map = this.messagesOf(message.conversation_id);
    const previous = map.get(message.id);
    // An optimistic bubble is replaced by the server's message once its client_id comes back.
    if (message.client_id) {
      for (const [key, value] of map) {
        if (value.pending && value.client_id === message.client_id) map.delete(key);
      }
    }
    map.set(message.id, message);
    this.emit('message', { message, previous });
  }

  removeMessage(conversationId, id) {
    this.messagesOf(conversationId).delete(id);
    this.emit('message', { message: null, removed: id, conversation_id: conversationId });
  }

  /** Apply one realtime frame. Unknown frame types are re-emitted for whoever understands them. */
  apply(frame) {
    switch (frame.type) {
      case 'conversation.created':
      case 'conversation.updated':
        if (frame.data) this.putConversation(frame.data);
        break;
      case 'message.created':
      case 'message.updated':
        if (frame.data) this.putMessage(frame.data);
        break;
      default:
        break;
    }
    this.emit('frame', frame);
  }
}
