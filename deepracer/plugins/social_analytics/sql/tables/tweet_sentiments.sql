-- One record per tweet: its sentiment in Amazon Comprehend's terms (label and the four
-- scores), from Comprehend on AWS or VADER locally (named in engine).
CREATE EXTERNAL TABLE IF NOT EXISTS tweet_sentiments (
  tweetid bigint,
  text string,
  sentiment string,
  sentimentposscore double,
  sentimentnegscore double,
  sentimentneuscore double,
  sentimentmixedscore double,
  engine string
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '{location}'
