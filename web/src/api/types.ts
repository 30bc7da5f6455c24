// The API's shapes the pages use, as aliases of the generated schema.d.ts
// (npm run gen:api): when the API changes, `npm run check:api` fails until the
// schema is regenerated, and `npm run typecheck` fails where a page disagrees.

import type { components } from './schema';

type S = components['schemas'];

export type Status = S['Status'];
export type AttachmentStatus = S['AttachmentStatus'];
export type Cadence = S['Cadence'];
export type Problem = S['Problem'];
export type Topic = S['TopicView'];
export type TopicList = S['TopicList'];
export type Sections = S['Sections'];
export type Hold = S['Hold'];
export type Attachment = S['Attachment'];
export type AttachmentCreated = S['AttachmentCreated'];
export type SubmittedBy = S['SubmittedByView'];
export type CaseStudyView = S['CaseStudyView'];
export type CaseStudySummary = S['CaseStudySummary'];
export type CaseStudyList = S['CaseStudyList'];
export type CaseStudyTemplate = S['CaseStudyTemplate'];
export type Organisation = S['Organisation'];
export type OrganisationWithCount = S['OrganisationWithCount'];
export type OrganisationList = S['OrganisationList'];
export type InsightsView = S['InsightsView'];
export type InsightsTable = S['InsightsTable'];
export type MemberView = S['MemberView'];
export type SearchItem = S['SearchItem'];
export type SearchResults = S['SearchResults'];
export type ResourceKind = S['ResourceKind'];
export const RESOURCE_KINDS: ResourceKind[] = ['guide', 'tool', 'template', 'slides', 'video', 'dataset', 'link'];
export type ResourceView = S['ResourceView'];
export type ResourceSummary = S['ResourceSummary'];
export type ResourceList = S['ResourceList'];
export type OrganisationRef = S['OrganisationRef'];
export type EventSummary = S['EventSummary'];
export type EventList = S['EventList'];
export type EventView = S['EventView'];
export type EventKind = S['EventKind'];
export type BookingStatus = S['BookingStatus'];
export type BookingView = S['BookingView'];
export type BookingList = S['BookingList'];
export type MyBooking = S['MyBooking'];
export type MyBookingList = S['MyBookingList'];
export type DirectoryMember = S['DirectoryMember'];
export type ProjectSummary = S['ProjectSummary'];
export type ProjectList = S['ProjectList'];
export type ProjectView = S['ProjectView'];
export type CalendarFeedStatus = S['CalendarFeedStatus'];
export type CalendarFeedLink = S['CalendarFeedLink'];
export type DirectoryPage = S['DirectoryPage'];
export type SimilarWork = S['SimilarWork'];
export type SimilarItem = S['SimilarItem'];

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

/** Not in the OpenAPI document yet: the roles admin routes. */
export interface RoleGrant {
  email: string;
  role: 'organiser' | 'moderator' | 'admin';
}

// Mentoring, coffee and QI projects (issue 18).
export type MentorView = S['MentorView'];
export type MentoringRequestView = S['MentoringRequestView'];
export type MentoringRequestList = S['MentoringRequestList'];
export type MatchList = S['MatchList'];
export type MyMentees = S['MyMentees'];
export type MenteeView = S['MenteeView'];
export type MyCoffee = S['MyCoffee'];
export type Portfolio = S['Portfolio'];
export type PortfolioSection = S['PortfolioSection'];
export type MyCoffeeRound = S['MyCoffeeRound'];
export type Classification = S['Classification'];
export type ClassificationGuide = S['ClassificationGuide'];
export type ProjectStatus = S['ProjectStatus'];
export type Pdsa = S['Pdsa'];
export type PdsaList = S['PdsaList'];
export type Measure = S['Measure'];
export type MeasureList = S['MeasureList'];
export type MeasureAnalysis = S['MeasureAnalysis'];
export type PointsUploaded = S['PointsUploaded'];
export type Board = S['Board'];
export type BoardMessage = S['BoardMessage'];
export type FollowState = S['FollowState'];
export type AdoptionsView = S['AdoptionsView'];
export type InspiredBy = S['InspiredBy'];

// Questions, answers, thanks and reports (issue 21).
export type QuestionTarget = S['QuestionTarget'];
export type QuestionAuthor = S['QuestionAuthor'];
export type Answer = S['Answer'];
export type Question = S['Question'];
export type QuestionList = S['QuestionList'];
export type Thanks = S['Thanks'];
export type Report = S['Report'];
export type ReportList = S['ReportList'];
export type EngagementPrefs = S['EngagementPrefs'];
export type EngagementPatch = S['EngagementPatchInput'];
