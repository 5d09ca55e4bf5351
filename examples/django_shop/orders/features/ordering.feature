Feature: Ordering
  A valid order takes stock and mails a confirmation; the form refuses more than the stock.

  Background:
    Given I have products in the database:
      | name   | price | stock |
      | Teapot | 25.00 | 3     |

  Scenario: An order is confirmed by e-mail
    When I order 2 "Teapot" for "ann@example.com"
    Then the page says "Thank you: 2 x Teapot"
    And I have sent 1 email
    And I have sent an email with "Your order: 2 x Teapot" in the subject
    And products should be present in the database:
      | name   | stock |
      | Teapot | 1     |

  Scenario: The form refuses more than the stock
    When I order 5 "Teapot" for "bob@example.com"
    Then the page says "Only 3 Teapot left"
    And I have not sent any emails
    And there should be 0 orders in the database
