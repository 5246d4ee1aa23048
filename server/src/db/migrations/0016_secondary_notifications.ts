import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // Secondary contacts (degree 2) are notified too, with their own message. One notification and one mark per case,
  // person and degree: a person told as a secondary contact who later turns out a degree-1 contact gets the
  // degree-1 notice as well (its advice is stronger), and the inbox keeps both.
  await sql`
    alter table notifications
      add column degree smallint not null default 1 check (degree in (1, 2))`.execute(db);
  await sql`alter table notifications drop constraint notifications_once`.execute(db);
  await sql`
    alter table notifications
      add constraint notifications_once unique (case_id, passenger_id, degree)`.execute(db);

  // `yellow`: whether the mark turns the passenger's health code yellow. Degree 1 always; degree 2 as
  // NOTIFY_DEGREE2_STATUS said when the person was notified (`notice`: the message only), so the colour always
  // matches what the person was told.
  await sql`
    alter table exposure_marks
      add column degree smallint not null default 1 check (degree in (1, 2)),
      add column yellow boolean not null default true`.execute(db);
  await sql`alter table exposure_marks drop constraint exposure_marks_pk`.execute(db);
  await sql`
    alter table exposure_marks
      add constraint exposure_marks_pk primary key (case_id, passenger_id, degree)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
