-- Raw tweets as Firehose delivers them: one Twitter API v1.1 object per line.
-- Only the fields the views and queries read are declared; both Athena's JSON SerDe and
-- DuckDB's read_json skip the others. Struct field names keep the JSON's spelling
-- (Athena matches them case-insensitively, DuckDB exactly).
CREATE EXTERNAL TABLE IF NOT EXISTS tweets (
  id bigint,
  id_str string,
  created_at string,
  text string,
  lang string,
  possibly_sensitive boolean,
  retweet_count int,
  favorite_count int,
  `user` struct<
    id: bigint,
    id_str: string,
    name: string,
    screen_name: string,
    location: string,
    followers_count: int,
    friends_count: int,
    verified: boolean
  >,
  entities struct<
    hashtags: array<struct<text: string>>,
    urls: array<struct<url: string, expanded_url: string, display_url: string>>,
    user_mentions: array<struct<screen_name: string, id_str: string>>
  >,
  extended_entities struct<
    media: array<struct<id_str: string, type: string, media_url_https: string, expanded_url: string>>
  >
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '{location}'
