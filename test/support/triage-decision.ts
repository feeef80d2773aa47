/**
 * A support-triage ticket and a grounded AI decision on it, in the order the model writes it:
 * reasoning, quotes with ids, claims citing them, then the fields. Shared by the stage and review
 * tests, which vary it one field at a time.
 */
export const TICKET_DOCS = [
  { id: 'ticket.subject', title: 'Subject', text: 'Charged twice for my subscription', origin: 'zendesk:ticket/1' },
  { id: 'ticket.description', title: 'Description', text: 'My card was charged twice this month. Please refund one charge.', origin: 'zendesk:ticket/1' },
];

export const GROUNDED_DECISION = {
  reasoning: 'duplicate charge',
  evidence: [{ id: 'q1', quote: 'My card was charged twice this month.', source: 'ticket.description' }],
  claims: [
    { field: 'category', statement: 'The card was charged twice this month.', quote_ids: ['q1'] },
    { field: 'priority', statement: 'A duplicate charge needs a refund.', quote_ids: ['q1'] },
  ],
  outcome: 'triaged', summary: 'Customer charged twice', category: 'billing', priority: 'high',
  escalation_reason: null, confidence: 0.9, missing_information: [],
};
