import { h, link } from '../dom';
import type { PageContext } from '../router';
import { heading } from '../ui/common';

export default function forbidden(ctx: PageContext): void {
  heading(ctx, 'You cannot see this page');
  ctx.main.append(
    h('p', null, 'This page is for people with a particular role in Qnet, such as moderators or administrators.'),
    h('p', null, 'Ask an administrator if you think you should have access, or ', link('/', 'go to the home page'), '.'),
  );
}
