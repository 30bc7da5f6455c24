import { h, link } from '../dom';
import type { PageContext } from '../router';
import { heading } from '../ui/common';

export default function notFound(ctx: PageContext): void {
  heading(ctx, 'Page not found');
  ctx.main.append(
    h('p', null, 'If you typed the web address, check it is correct.'),
    h('p', null, 'If you pasted the web address, check you copied the entire address.'),
    h('p', null, 'You can ', link('/', 'go to the Qnet home page'), ' or ', link('/search', 'search Qnet'), '.'),
  );
}
