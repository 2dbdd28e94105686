// Channel glyphs: brand marks for Meta channels (always paired with the channel's name), Lucide for the rest.

import { icon } from '../dom.js';
import { t } from '../i18n.js';

const GLYPHS = {
  whatsapp: 'ch-whatsapp', messenger: 'ch-messenger', instagram: 'ch-instagram', email: 'mail', widget: 'globe',
  voice: 'phone', api: 'webhook',
};

export function channelIcon(kind, { labelled = false } = {}) {
  return icon(GLYPHS[kind] || 'message-circle', { cls: `channel-glyph ch-${kind}`, label: labelled ? t(`kinds.${kind}`) : undefined });
}
