// The API's shapes the pages use. Hand-copied from the Rust views until the
// generated schema.d.ts lands; then each becomes an alias of
// components['schemas'][...] so a drift fails `npm run typecheck`.

export type Status = 'pending' | 'published' | 'rejected';
export type AttachmentStatus = 'pending' | 'ready' | 'rejected';
export type Cadence = 'weekly' | 'monthly' | 'off';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors: { field: string; message: string }[];
}

export interface Topic {
  id: string;
  name: string;
}
export interface TopicList {
  items: Topic[];
  next_cursor?: string | null;
}

export interface Sections {
  aim?: string | null;
  background?: string | null;
  what_we_did?: string | null;
  measures?: string | null;
  results?: string | null;
  lessons_learned?: string | null;
  contact?: string | null;
}

export interface Hold {
  reason: string;
}

export interface Attachment {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  status: AttachmentStatus;
  rejection_reason?: string | null;
}

export interface AttachmentCreated {
  attachment: Attachment;
  upload_url: string;
  upload_headers: Record<string, string>;
  expires_at: string;
}

export interface SubmittedBy {
  member_id?: string | null;
  name?: string | null;
  email?: string | null;
}

export interface CaseStudyView {
  id: string;
  title: string;
  summary: string;
  body: string;
  sections: Sections;
  organisation_id?: string | null;
  organisation_name?: string | null;
  topics: string[];
  status: Status;
  rejection_reason?: string | null;
  hold?: Hold | null;
  submitted_by: SubmittedBy;
  source: 'web' | 'email';
  sender_verified?: boolean | null;
  attachments: Attachment[];
  created_at: string;
  updated_at: string;
  published_at?: string | null;
  version: number;
}

export interface CaseStudySummary {
  id: string;
  title: string;
  summary: string;
  organisation_id?: string | null;
  organisation_name?: string | null;
  topics: string[];
  published_at?: string | null;
  status?: Status | null;
  created_at?: string | null;
  hold?: Hold | null;
}

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}
export type CaseStudyList = Page<CaseStudySummary>;

export interface CaseStudyTemplate {
  text: string;
  sections: string[];
}

export interface Organisation {
  id: string;
  name: string;
  type: 'nhs' | 'local_authority' | 'voluntary' | 'education' | 'other';
  ods_code?: string | null;
  email_domains: string[];
  created_at: string;
  updated_at: string;
  version: number;
}
export interface OrganisationWithCount {
  organisation: Organisation;
  member_count: number;
}
export type OrganisationList = Page<OrganisationWithCount>;

export interface MemberView {
  id: string;
  name: string;
  email: string;
  organisation_id?: string | null;
  organisation_name?: string | null;
  job_title?: string | null;
  topics: string[];
  digest: { cadence: Cadence; topics: string[]; unsubscribed_at?: string | null };
  coffee: { opt_in: boolean };
  listed: boolean;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface SearchItem {
  id: string;
  type: string;
  title: string;
  highlights: string[];
}
export type SearchResults = Page<SearchItem>;

export type ResourceKind = 'guide' | 'tool' | 'template' | 'slides' | 'video' | 'dataset' | 'link';
export const RESOURCE_KINDS: ResourceKind[] = ['guide', 'tool', 'template', 'slides', 'video', 'dataset', 'link'];

export interface ResourceView {
  id: string;
  title: string;
  description: string;
  kind: ResourceKind;
  topics: string[];
  organisation_id: string;
  organisation_name?: string | null;
  url?: string | null;
  file?: Attachment | null;
  status: Status;
  rejection_reason?: string | null;
  hold?: Hold | null;
  submitted_by: SubmittedBy;
  download_count: number;
  created_at: string;
  updated_at: string;
  published_at?: string | null;
  version: number;
}
export interface ResourceSummary {
  id: string;
  title: string;
  summary: string;
  kind: ResourceKind;
  topics: string[];
  organisation_id: string;
  organisation_name?: string | null;
  format: string;
  status: Status;
  published_at?: string | null;
}
export type ResourceList = Page<ResourceSummary>;

export interface OrganisationRef {
  id: string;
  name?: string | null;
}

export interface EventSummary {
  id: string;
  kind: string;
  title: string;
  starts_at: string;
  ends_at: string;
  starts_local: string;
  location?: string | null;
  online: boolean;
  capacity: number;
  host_organisation_id: string;
  topics: string[];
  places_left?: number;
  status?: string;
}
export type EventList = Page<EventSummary>;
export interface EventView {
  id: string;
  kind: string;
  title: string;
  description: string;
  starts_at: string;
  ends_at: string;
  starts_local: string;
  ends_local: string;
  location?: string | null;
  online_url?: string | null;
  capacity: number;
  places: { capacity: number; confirmed: number; left: number };
  host_organisation: OrganisationRef;
  topics: string[];
  booking_closes_local: string;
  what_you_will_see?: string | null;
  host?: string | null;
  status: string;
  version: number;
}

export interface ProjectSummary {
  id: string;
  title: string;
  aim: string;
  organisation_ids: string[];
  topics: string[];
  status: string;
  progress_score?: number | null;
  created_at: string;
}
export type ProjectList = Page<ProjectSummary>;
export interface ProjectView {
  id: string;
  title: string;
  aim: string;
  problem?: string | null;
  organisations: OrganisationRef[];
  team: string[];
  topics: string[];
  status: string;
  started_on?: string | null;
  progress_score?: number | null;
  progress_label?: string | null;
  following: boolean;
  version: number;
}

export interface CalendarFeedStatus {
  exists: boolean;
  created_at?: string | null;
}
export interface CalendarFeedLink {
  url: string;
}

/** Not in the OpenAPI document yet: the roles admin routes. */
export interface RoleGrant {
  email: string;
  role: 'organiser' | 'moderator' | 'admin';
}
