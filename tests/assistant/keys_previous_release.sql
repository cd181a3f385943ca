-- keys.db as the previous release (sqlite-utils, before the Alembic migrations) wrote it: dumped from a home
-- made by assistant/keys.py on main at e9a0cd5. Its pepper and plaintext keys are in tests/assistant/test_keys_adoption.py.
BEGIN TRANSACTION;
CREATE TABLE "keys" (
   "id" TEXT PRIMARY KEY,
   "kind" TEXT,
   "name" TEXT,
   "origins" TEXT,
   "digest" TEXT,
   "created_at" REAL,
   "revoked_at" REAL
);
INSERT INTO "keys" VALUES('3a24dde1','admin','ops','[]','a5cd1953fee5aebb3eb4c35eb464a9b17a7a22eb6bfac923c32cc387481688ae',1.79622425306297206883e+09,NULL);
INSERT INTO "keys" VALUES('befe9528','widget','shop','["https://shop.example.com"]','166991b996c128c857264abd5bf02d77ff03cef959c252a2d0501fe1ac06333b',1.79622425306360507008e+09,NULL);
INSERT INTO "keys" VALUES('782c0fb8','admin','old','[]','26d92a543a03a0001b361636dcb651e253e1c129dcda79c4e9ad37dfbc53a28e',1.79622425306406116487e+09,1.79622425306476187706e+09);
CREATE UNIQUE INDEX "idx_keys_digest"
    ON "keys" ("digest");
COMMIT;
