import type { PageContext } from '../router';
import { heading } from '../ui/common';

export default function page(ctx: PageContext): void {
  heading(ctx, 'event');
}
